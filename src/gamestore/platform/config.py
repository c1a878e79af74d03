"""Settings, read from the environment with the ``GAMESTORE_`` prefix.

Adapters are chosen by URL, never by code: ``sqlite:///path`` or ``postgresql://...`` for
databases and the event store, ``embedded`` or ``amqp://...`` for the bus and the queue.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED = "embedded"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GAMESTORE_", extra="ignore")

    data_dir: Path = Path("data")
    log_dir: Path = Path("logs")
    eventstore_url: str | None = None
    bus_url: str = EMBEDDED
    queue_url: str | None = None
    redis_url: str | None = None
    search_url: str | None = None
    # where cover images live: ``s3://bucket?endpoint=…&region=…`` (credentials from the AWS
    # variables); unset, files under ``<data_dir>/covers``
    covers_url: str | None = None
    log_level: str = "INFO"
    # what a process also writes to stderr (its log file gets ``log_level``): ``gamestore up``
    # sets WARNING for its processes unless ``--verbose``, so the console shows what matters
    console_log_level: str = "INFO"
    host: str = "127.0.0.1"
    # the host every listener of every process binds (``0.0.0.0`` in a container); unset, each
    # binds the host of its own URL (``GAMESTORE_<NAME>_URL``), the gateway ``host``
    bind_host: str | None = None
    port: int = 8000
    # Gateway (docs/adr/006-gateway.md). Rates are requests per second; a rate of 0 disables.
    gateway_client_rate: float = 200.0
    gateway_client_burst: int = 400
    gateway_user_rate: float = 100.0
    gateway_user_burst: int = 200
    gateway_cors_origins: list[str] = []
    gateway_connect_timeout: float = 3.0
    gateway_upstream_timeout: float = 30.0
    gateway_openapi_ttl: float = 10.0
    # users service: tokens, password hashing, login throttling (docs/adr/005)
    jwt_private_key: SecretStr | None = None
    access_token_ttl_seconds: int = Field(default=900, ge=1, le=900)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    # failures allowed per account and client, then per client across accounts, within the
    # window; after them each attempt waits 1 s, 2 s, 4 s… up to the longest delay
    login_max_failures: int = Field(default=5, ge=1)
    login_client_max_failures: int = Field(default=20, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    login_max_delay_seconds: float = Field(default=60.0, gt=0)
    # payment-worker: PSP calls, retries with backoff, then the dead-letter queue (docs/adr/008)
    payment_max_attempts: int = Field(default=5, ge=1)
    payment_retry_base_seconds: float = Field(default=0.5, gt=0)
    payment_retry_max_seconds: float = Field(default=30.0, gt=0)
    payment_worker_concurrency: int = Field(default=8, ge=1)
    psp_timeout_seconds: float = Field(default=10.0, gt=0)
    # the PSP's secret API key (``sk_…``); unset, the one kept under <data_dir>/keys/
    psp_api_key: SecretStr | None = None
    # the PSP's webhook signing secrets, comma-separated (rotation: list the new one and the old
    # one until the PSP signs with the new one only); unset, ``psp_webhook_secret``; unset too,
    # the one kept under <data_dir>/keys/ (shared with the embedded PSP simulator)
    psp_webhook_secrets: SecretStr | None = None
    psp_webhook_secret: SecretStr | None = None
    # how long the PSP may stay unavailable (5xx, 429, timeouts, refused) for one payment before
    # it is dead-lettered: unavailability is waited out, never counted as an attempt
    payment_psp_outage_budget_seconds: float = Field(default=1200.0, gt=0)
    # table-backed queue: how long a delivery stays invisible while its consumer works on it
    # (a consumer killed mid-message gives it back after this many seconds)
    queue_lease_seconds: float = Field(default=30.0, gt=0)
    # how long one step of a loop (a delivery, a relay pass) may take without progress before
    # the process says it is stuck (/healthz 503) and the supervisor restarts it
    loop_stall_seconds: float = Field(default=120.0, gt=0)
    # whether a process upgrades its databases' schemas itself when it starts; unset, only
    # SQLite (embedded) databases are: in production `gamestore migrate` runs first, and a
    # process whose schema is behind its code refuses to start (src/gamestore/migrations)
    migrate_on_start: bool | None = None
    # PostgreSQL connections a process keeps per database (its own, the event store's): the
    # pool, and how many more it may open in a burst. Replicas x databases x (both) must fit
    # the server's max_connections (100 by default), or use PgBouncer in session mode.
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    # the supervisor's status file (platform/supervisor_status.py), which `gamestore up` names
    # to every process it starts; the gateway's readiness reports the processes it lists
    supervisor_status: Path | None = None

    @cached_property
    def event_store_url(self) -> str:
        """The event store; an SQLite file under the data dir unless configured."""
        return self.eventstore_url or sqlite_url(self.data_dir / "events.db")

    @cached_property
    def work_queue_url(self) -> str:
        """The payment queue; a table next to the event store unless configured."""
        return self.queue_url or sqlite_url(self.data_dir / "queue.db")

    @property
    def psp_url(self) -> str:
        """Where the PSP answers: ``GAMESTORE_PSP_URL`` or its default local port."""
        return service_url("psp")

    def psp_secret_key(self) -> str:
        """The secret API key every call to the PSP sends (``GAMESTORE_PSP_API_KEY``, else the
        key the embedded PSP simulator keeps under the data dir)."""
        if self.psp_api_key is not None and self.psp_api_key.get_secret_value():
            return self.psp_api_key.get_secret_value()
        return kept_secret(self.data_dir / "keys" / "psp_api_key", _new_api_key)

    def database_url(self, service: str) -> str:
        """A service's own database: ``GAMESTORE_<SERVICE>_DB_URL`` or an SQLite file."""
        configured = os.environ.get(f"GAMESTORE_{service.upper()}_DB_URL")
        return configured or sqlite_url(self.data_dir / f"{service}.db")


def kept_secret(path: Path, new: Callable[[], str]) -> str:
    """The secret kept at ``path``, created (mode 0600) with ``new()`` if absent.

    In the embedded default a secret is shared by two processes through its file (the PSP
    simulator and the payments side each read it); whichever starts first writes it. The file
    appears atomically (written aside, then hard-linked into place), so a concurrent reader
    never sees a half-written secret and both sides end with the same one."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as file:
                file.write(new() + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(aside, path)
        finally:
            aside.unlink(missing_ok=True)
    return path.read_text(encoding="ascii").strip()


def _new_api_key() -> str:
    """A secret API key in the PSP's format (``sk_test_`` + 32 random bytes, URL-safe)."""
    return "sk_test_" + secrets.token_urlsafe(32)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def sqlite_path(url: str) -> Path:
    """The file behind ``sqlite:///relative`` or ``sqlite:////absolute``."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not an sqlite URL: {url!r}")
    return Path(url.removeprefix("sqlite:///"))


def scheme(url: str) -> str:
    return url.split(":", 1)[0].split("+", 1)[0].lower()


SERVICE_PORTS = {
    "gateway": 8000,
    "users": 8001,
    "games": 8002,
    "payments": 8003,
    "psp": 8004,
    "notifier": 8005,
    # processes without an API: their port serves /healthz, /readyz and /metrics only
    "indexer": 8006,
    "payment-worker": 8007,
    "webhook-function": 8008,
    "bus-publisher": 8009,
    # the gateway's /metrics (kept off its public port) with its /healthz and /readyz
    "gateway-ops": 8010,
}
"""Default local ports; ``GAMESTORE_<NAME>_URL`` (``-`` as ``_``) points a process elsewhere."""


def url_variable(name: str) -> str:
    """The variable that says where ``name`` answers: ``GAMESTORE_<NAME>_URL``."""
    return f"GAMESTORE_{name.upper().replace('-', '_')}_URL"


def service_urls(service: str, host: str = "127.0.0.1") -> list[str]:
    """Every replica of ``service``: ``GAMESTORE_<SERVICE>_URL`` (several URLs separated by
    commas when it runs as several replicas without a load balancer in front) or its default
    local port."""
    configured = os.environ.get(url_variable(service), "")
    urls = [url.strip().rstrip("/") for url in configured.split(",") if url.strip()]
    return urls or [f"http://{host}:{SERVICE_PORTS[service]}"]


REPLICA_ENV = "GAMESTORE_REPLICA"


def replica() -> int:
    """Which replica of its process this one is (``GAMESTORE_REPLICA``, 0 unless scaled)."""
    return int(os.environ.get(REPLICA_ENV, "0"))


def replica_url(service: str, index: int) -> str:
    """The URL replica ``index`` of ``service`` listens on (the one URL when not scaled)."""
    urls = service_urls(service)
    return urls[index % len(urls)]


def service_url(service: str) -> str:
    """Where ``service`` answers, one URL: a replica of ``service`` listens on the URL at its
    own replica index; any other process, by the same rule, spreads over the replicas."""
    return replica_url(service, replica())


def bind_host(host: str) -> str:
    """The host a listener binds: ``GAMESTORE_BIND_HOST`` if set, else ``host``."""
    return os.environ.get("GAMESTORE_BIND_HOST") or host
