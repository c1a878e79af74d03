"""``deploy/compose.yaml`` checked offline: valid under the Compose Specification's JSON schema
(vendored in ``compose-spec/``) once its variables are put in as Compose does, and true to the
store: a service per process, migrations first, replicas, one published port, databases the
init script creates, each secret where it is needed and nowhere it is written down.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from gamestore.platform.config import SERVICE_PORTS
from gamestore.processes import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
SCHEMA = json.loads((Path(__file__).parent / "compose-spec" / "compose-spec.json").read_text())
INIT_SQL = (DEPLOY / "postgres" / "init-databases.sql").read_text()
ENV_EXAMPLE = (DEPLOY / ".env.example").read_text()

ENGINES = {"postgres", "rabbitmq", "redis", "elasticsearch"}
SINGLE = {"psp"}  # the PSP simulator keeps its ledger in one process
SCALABLE = {spec.name for spec in REGISTRY} - SINGLE
SECRETS = {
    # variable -> the services that need it (and no other may have it)
    "GAMESTORE_JWT_PRIVATE_KEY": {"users"},
    "GAMESTORE_PSP_API_KEY": {"payment-worker", "webhook-function", "psp"},
    "GAMESTORE_PSP_WEBHOOK_SECRET": {"payments", "psp"},
}
DUMMY_ENV = {
    "POSTGRES_PASSWORD": "pg0test",
    "RABBITMQ_PASSWORD": "mq0test",
    "REDIS_PASSWORD": "redis0test",
    "GAMESTORE_PSP_API_KEY": "sk_test_dummy",
    "GAMESTORE_PSP_WEBHOOK_SECRET": "whsec_ZHVtbXk=",
    "GAMESTORE_JWT_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nZHVtbXk=\n-----END PRIVATE KEY-----",
}


class InterpolationError(ValueError):
    """A required variable (``${VAR:?message}``) is unset or empty."""


VARIABLE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_]\w*))")
BRACED = re.compile(r"(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<arg>.*))?$", re.DOTALL)


def interpolate_string(text: str, env: Mapping[str, str]) -> str:
    """``text`` with ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
    ``${VAR:?error}``, ``${VAR?error}``, ``${VAR:+other}`` and ``$$`` replaced as Compose does."""

    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        if match.group("named"):
            return env.get(match.group("named"), "")
        braced = BRACED.match(match.group("braced"))
        if braced is None:
            raise InterpolationError(f"invalid interpolation: {match.group(0)}")
        name, op, arg = braced.group("name", "op", "arg")
        value = env.get(name)
        empty = not value
        if op is None:
            return value or ""
        if op in (":-", "-"):
            return arg if (empty if op == ":-" else value is None) else str(value)
        if op in (":?", "?"):
            if empty if op == ":?" else value is None:
                raise InterpolationError(f"{name}: {arg}")
            return str(value)
        return arg if not (empty if op == ":+" else value is None) else ""

    return VARIABLE.sub(replace, text)


def interpolate(node: Any, env: Mapping[str, str]) -> Any:
    """Every string value (keys are left alone, as Compose does) interpolated."""
    if isinstance(node, str):
        return interpolate_string(node, env)
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    return node


def raw() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = interpolate(raw(), DUMMY_ENV)
    assert isinstance(document, dict)
    return document


def schema_errors(document: Mapping[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def processes(compose: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run ``gamestore serve <name>``, by process name."""
    found = {}
    for service in compose["services"].values():
        command = service.get("command")
        if isinstance(command, list) and command[:1] == ["serve"]:
            found[command[1]] = service
    return found


# --- the schema ------------------------------------------------------------------------------


def test_the_compose_file_is_valid_under_the_compose_specification(
    compose: dict[str, Any],
) -> None:
    assert schema_errors(compose) == []


@pytest.mark.parametrize(
    "breakage",
    ["unknown key", "bad condition", "replicas as a list", "command as a number", "bad volume"],
)
def test_the_schema_rejects_a_broken_compose_document(
    compose: dict[str, Any], breakage: str
) -> None:
    broken = copy.deepcopy(compose)
    users = broken["services"]["users"]
    if breakage == "unknown key":
        users["replica"] = 2
    elif breakage == "bad condition":
        users["depends_on"]["migrate"]["condition"] = "service_finished"
    elif breakage == "replicas as a list":
        users["deploy"]["replicas"] = [2]
    elif breakage == "command as a number":
        users["command"] = 7
    else:
        broken["volumes"]["postgres-data"] = ["not", "a", "volume"]
    assert schema_errors(broken)


# --- variables and secrets -------------------------------------------------------------------


def required_variables(node: Any) -> set[str]:
    """The variables the file requires (``${VAR:?...}``) anywhere in its values."""
    text = json.dumps(node)
    return set(re.findall(r"\$\{([A-Za-z_]\w*):\?", text))


def test_every_required_variable_is_documented_in_the_env_example() -> None:
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE, re.MULTILINE))
    required = required_variables(raw())
    assert required == set(DUMMY_ENV)
    assert required <= documented


def test_the_env_example_holds_no_secret_value() -> None:
    """Each secret is empty in the example (so that Compose refuses a copy left unfilled)."""
    for name in required_variables(raw()) - {"GAMESTORE_JWT_PRIVATE_KEY"}:
        assert re.search(rf"^{name}=$", ENV_EXAMPLE, re.MULTILINE), name
    assert not re.search(r"^[^#]*PRIVATE KEY", ENV_EXAMPLE, re.MULTILINE)


@pytest.mark.parametrize("missing", sorted(DUMMY_ENV))
def test_compose_refuses_to_start_without_each_secret(missing: str) -> None:
    env = {key: value for key, value in DUMMY_ENV.items() if key != missing}
    with pytest.raises(InterpolationError, match=missing):
        interpolate(raw(), env)
    with pytest.raises(InterpolationError, match=missing):
        interpolate(raw(), {**env, missing: ""})


def test_interpolation_follows_compose() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate_string("$$SET ${SET} $SET ${UNSET:-d} ${EMPTY:-d} ${EMPTY-d}", env) == (
        "$SET x x d d "
    )
    assert interpolate_string("${SET:+y}${UNSET:+y}${SET?e}", env) == "yx"
    with pytest.raises(InterpolationError):
        interpolate_string("${EMPTY:?needed}", env)


def test_no_secret_is_written_in_the_file() -> None:
    """Every password and key comes from a required variable, never from the file."""
    for name, service in raw()["services"].items():
        environment = service.get("environment") or {}
        for key, value in environment.items():
            if re.search(r"PASSWORD|SECRET|_KEY|PASS$", key):
                assert isinstance(value, str) and re.fullmatch(r"\$\{\w+:[?-][^}]*\}", value), (
                    f"{name}: {key}"
                )
            if isinstance(value, str) and "://" in value and "@" in value:
                credentials = re.match(r"\w+://[^:/@]*:(.*)@[\w.-]+:\d+/", value)
                assert credentials, f"{name}: {key}"
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", credentials.group(1)), f"{name}: {key}"


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_each_secret_goes_only_to_the_processes_that_need_it(
    compose: dict[str, Any], secret: str
) -> None:
    having = {
        name
        for name, service in compose["services"].items()
        if secret in (service.get("environment") or {})
    }
    assert having == SECRETS[secret]


# --- the processes ---------------------------------------------------------------------------


def test_every_registered_process_has_a_service(compose: dict[str, Any]) -> None:
    assert set(processes(compose)) == {spec.name for spec in REGISTRY}
    for name, service in processes(compose).items():
        assert service["command"] == ["serve", name]
        assert compose["services"].get(name) is service, f"{name} runs under another name"


def test_the_migration_runs_once_before_any_process(compose: dict[str, Any]) -> None:
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["image"] == compose["services"]["gateway"]["image"]
    for name, service in processes(compose).items():
        assert service["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }, name
        assert service["image"] == migrate["image"], name


def test_every_process_waits_for_healthy_engines(compose: dict[str, Any]) -> None:
    for name, service in processes(compose).items():
        for engine in ENGINES:
            assert service["depends_on"][engine]["condition"] == "service_healthy", name


def test_the_scalable_processes_run_at_least_two_replicas(compose: dict[str, Any]) -> None:
    for name, service in processes(compose).items():
        replicas = service.get("deploy", {}).get("replicas", 1)
        if name in SCALABLE:
            assert replicas >= 2, name
        else:
            assert replicas == 1, name
        assert "container_name" not in service, name  # a fixed name forbids replicas


def published(service: Mapping[str, Any]) -> list[dict[str, Any]]:
    ports = service.get("ports", [])
    assert all(isinstance(port, dict) for port in ports), "ports in the long syntax"
    return [port for port in ports if port.get("published")]


def test_only_the_gateway_is_published(compose: dict[str, Any]) -> None:
    services = compose["services"]
    gateway = published(services["gateway"])
    assert [port["target"] for port in gateway] == [SERVICE_PORTS["gateway"]]
    first, _, last = str(gateway[0]["published"]).partition("-")
    assert int(last or first) - int(first) + 1 >= services["gateway"]["deploy"]["replicas"], (
        "one host port per gateway replica"
    )
    for name, service in services.items():
        if name == "gateway":
            continue
        for port in published(service):
            # the RabbitMQ management UI, for the host's own user only
            assert (name, port["target"], port.get("host_ip")) == ("rabbitmq", 15672, "127.0.0.1")


def test_every_process_has_a_health_check(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        check = service.get("healthcheck", {})
        if name == "migrate":
            assert check == {"disable": True}
            continue
        assert check.get("test") and not check.get("disable"), name
    for name, service in processes(compose).items():
        assert service["healthcheck"]["test"] == [
            "CMD",
            "/opt/venv/bin/python",
            "/opt/gamestore/healthcheck.py",
        ], name


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict)
    return {key: str(value) for key, value in env.items()}


def test_each_process_is_reached_at_its_service_name_and_default_port(
    compose: dict[str, Any],
) -> None:
    """``GAMESTORE_<NAME>_URL`` says where a process is reached and also where it listens; the
    image's health check finds the port there."""
    for name, service in [*processes(compose).items(), ("migrate", compose["services"]["migrate"])]:
        env = environment(service)
        for process, port in SERVICE_PORTS.items():
            if process == "gateway":
                continue  # its public port is GAMESTORE_PORT
            host = "gateway" if process == "gateway-ops" else process
            variable = f"GAMESTORE_{process.upper().replace('-', '_')}_URL"
            assert env[variable] == f"http://{host}:{port}", (name, variable)
        assert env["GAMESTORE_PORT"] == str(SERVICE_PORTS["gateway"])


def created_databases() -> set[str]:
    return set(re.findall(r"^CREATE DATABASE (\w+);", INIT_SQL, re.MULTILINE))


def test_every_database_url_names_a_database_the_init_script_creates(
    compose: dict[str, Any],
) -> None:
    postgres = compose["services"]["postgres"]
    assert any(
        volume.endswith(":/docker-entrypoint-initdb.d/10-databases.sql:ro")
        and volume.startswith("./postgres/init-databases.sql")
        for volume in postgres["volumes"]
    )
    user = postgres["environment"]["POSTGRES_USER"]
    used = set()
    for name, service in [*processes(compose).items(), ("migrate", compose["services"]["migrate"])]:
        for key, value in environment(service).items():
            if key == "GAMESTORE_EVENTSTORE_URL" or key.endswith("_DB_URL"):
                url = urlsplit(value)
                assert (url.scheme, url.hostname, url.port) == ("postgresql", "postgres", 5432)
                assert url.username == user, (name, key)
                assert url.password == DUMMY_ENV["POSTGRES_PASSWORD"], (name, key)
                used.add(url.path.lstrip("/"))
    assert used == created_databases() == {
        "events", "users", "games", "payments", "notifier", "psp", "indexer",
    }  # fmt: skip


def test_the_engines_keep_their_data_in_named_volumes(compose: dict[str, Any]) -> None:
    mounts = {
        "postgres": "/var/lib/postgresql/data",
        "rabbitmq": "/var/lib/rabbitmq",
        "elasticsearch": "/usr/share/elasticsearch/data",
    }
    for name, target in mounts.items():
        volumes = compose["services"][name]["volumes"]
        sources = [v.split(":")[0] for v in volumes if v.split(":")[1] == target]
        assert sources and sources[0] in compose["volumes"], name


def test_the_engines_are_configured_for_the_store(compose: dict[str, Any]) -> None:
    services = compose["services"]
    elasticsearch = services["elasticsearch"]["environment"]
    assert elasticsearch["discovery.type"] == "single-node"
    assert "-Xmx" in elasticsearch["ES_JAVA_OPTS"]
    assert services["elasticsearch"]["image"].split(":")[-1].startswith("8.")
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3")
    assert "management" in services["rabbitmq"]["image"]
    env = environment(services["users"])
    assert urlsplit(env["GAMESTORE_BUS_URL"]).hostname == "rabbitmq"
    assert env["GAMESTORE_QUEUE_URL"] == env["GAMESTORE_BUS_URL"]
    assert urlsplit(env["GAMESTORE_REDIS_URL"]).hostname == "redis"
    assert env["GAMESTORE_SEARCH_URL"] == "http://elasticsearch:9200"
    assert environment(services["psp"])["GAMESTORE_PSP_WEBHOOK_URL"] == (
        f"http://payments:{SERVICE_PORTS['payments']}/webhooks/psp"
    )


# --- the checks above can fail ---------------------------------------------------------------


def test_a_missing_process_or_migration_dependency_is_caught(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    del broken["services"]["notifier"]
    del broken["services"]["games"]["depends_on"]["migrate"]
    broken["services"]["indexer"]["deploy"]["replicas"] = 1
    broken["services"]["users"]["ports"] = [{"target": 8001, "published": "8001"}]
    with pytest.raises(AssertionError):
        test_every_registered_process_has_a_service(broken)
    with pytest.raises(KeyError):
        test_the_migration_runs_once_before_any_process(broken)
    with pytest.raises(AssertionError):
        test_the_scalable_processes_run_at_least_two_replicas(broken)
    with pytest.raises(AssertionError):
        test_only_the_gateway_is_published(broken)


def test_a_database_the_init_script_does_not_create_is_caught(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    env = broken["services"]["games"]["environment"]
    env["GAMESTORE_GAMES_DB_URL"] = env["GAMESTORE_GAMES_DB_URL"].replace("/games", "/catalog")
    with pytest.raises(AssertionError):
        test_every_database_url_names_a_database_the_init_script_creates(broken)
