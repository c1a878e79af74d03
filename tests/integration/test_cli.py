"""The ``gamestore`` command line against real SQLite stores, log files and processes."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gamestore.cli import app
from gamestore.platform.bus import Backoff, connect_bus
from gamestore.platform.config import Settings, sqlite_url
from gamestore.platform.eventstore import NewEvent, RecordedEvent, connect
from gamestore.platform.queue import Message, PermanentError, connect_queue
from gamestore.processes import PROCESSES, ProcessSpec, enabled_processes
from tests.ports import free_port

up_command = importlib.import_module("gamestore.cli.up")  # the module, not the command
runner = CliRunner()


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    """A data dir and a log dir of our own, through the environment as a user would set them."""
    data, logs = tmp_path / "data", tmp_path / "logs"
    for name in ("EVENTSTORE_URL", "QUEUE_URL", "BUS_URL"):
        monkeypatch.delenv(f"GAMESTORE_{name}", raising=False)
    monkeypatch.setenv("GAMESTORE_DATA_DIR", str(data))
    monkeypatch.setenv("GAMESTORE_LOG_DIR", str(logs))
    yield data, logs


Row = tuple[str, str, Mapping[str, object], str | None]


@pytest.fixture
def store_url(dirs: tuple[Path, Path], database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each engine in turn: the default SQLite file in the data dir, then a PostgreSQL store."""
    if database_url.startswith("sqlite"):
        return local_store(dirs)
    monkeypatch.setenv("GAMESTORE_EVENTSTORE_URL", database_url)
    return database_url


def local_store(dirs: tuple[Path, Path]) -> str:
    dirs[0].mkdir(parents=True, exist_ok=True)
    return sqlite_url(dirs[0] / "events.db")


def append(url: str, *events: Row) -> list[RecordedEvent]:
    """Append ``(stream, type, data, correlation id)`` events to the store at ``url``."""

    async def run() -> list[RecordedEvent]:
        store = await connect(url)
        try:
            recorded = []
            for stream, kind, body, corr in events:
                new = NewEvent(type=kind, data=body, correlation_id=corr)
                recorded += await store.append(stream, [new])
            return recorded
        finally:
            await store.close()

    return asyncio.run(run())


def speak(monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    """The CLI's language for this test, as a shell would set it."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", lang)


def cli(*args: str, input: str | None = None) -> tuple[int, list[str]]:
    result = runner.invoke(app, list(args), input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output.splitlines()


SAMPLE: tuple[Row, ...] = (
    ("game-1", "GameCreated", {"title": "Hades", "price": 25}, "corr-a"),
    ("user-1", "UserRegistered", {"user_id": "u1"}, "corr-b"),
    ("game-1", "GameUpdated", {"price": 20}, "corr-a"),
    ("game-2", "GameCreated", {"title": "Celeste"}, None),
)


# events tail ---------------------------------------------------------------------------------


def test_tail_prints_every_field_of_each_event_oldest_first(store_url: str) -> None:
    recorded = append(store_url, *SAMPLE)
    code, lines = cli("events", "tail")
    assert code == 0
    assert len(lines) == 4
    first = lines[0].split()
    assert first[0] == "1"
    assert first[1] == recorded[0].occurred_at.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
    assert first[2:6] == ["GameCreated", "game-1", "v1", "corr=corr-a"]
    assert len(first) == 7  # compact data: one token
    assert json.loads(first[6]) == {"title": "Hades", "price": 25}  # PostgreSQL reorders keys
    assert [line.split()[2] for line in lines] == [kind for _, kind, _, _ in SAMPLE]
    assert lines[2].split()[3:5] == ["game-1", "v2"]
    assert "corr=-" in lines[3]


def test_tail_limit_type_and_stream_filters(store_url: str) -> None:
    append(store_url, *SAMPLE)
    _, newest = cli("events", "tail", "--limit", "2")
    assert [line.split()[0] for line in newest] == ["3", "4"]
    _, created = cli("events", "tail", "--type", "GameCreated")
    assert [line.split()[0] for line in created] == ["1", "4"]
    _, game = cli("events", "tail", "--stream", "game-1", "-n", "1")
    assert [line.split()[0] for line in game] == ["3"]
    _, both = cli("events", "tail", "-t", "GameCreated", "-t", "UserRegistered", "-n", "5")
    assert [line.split()[0] for line in both] == ["1", "2", "4"]
    code, none = cli("events", "tail", "--type", "NoSuchType")
    assert (code, none) == (0, ["No events."])


def test_tail_finds_a_rare_type_far_behind_the_head(dirs: tuple[Path, Path]) -> None:
    common: list[Row] = [("s", "Common", {"n": n}, None) for n in range(60)]
    append(local_store(dirs), ("s", "Rare", {}, None), *common)
    _, lines = cli("events", "tail", "--type", "Rare", "--limit", "3")
    assert [line.split()[:3][::2] for line in lines] == [["1", "Rare"]]


def test_tail_of_a_store_that_does_not_exist_creates_nothing(dirs: tuple[Path, Path]) -> None:
    code, lines = cli("events", "tail")
    assert code == 0
    assert "No event store yet" in lines[0]
    assert not (dirs[0] / "events.db").exists()


class LineReader:
    """Collects a subprocess's stdout lines on a thread, so the test can poll them."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, condition: Callable[[list[str]], bool], what: str) -> None:
        deadline = time.monotonic() + 15
        while not condition(self.lines):
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {self.lines}"
            time.sleep(0.02)


def test_tail_follow_prints_new_events_until_ctrl_c(store_url: str) -> None:
    append(store_url, *SAMPLE)
    process = subprocess.Popen(
        [sys.executable, "-m", "gamestore", "events", "tail", "--follow", "-n", "1", "-t", "Shown"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        reader = LineReader(process)
        append(store_url, ("live", "Hidden", {}, None), ("live", "Shown", {"n": 1}, None))
        reader.wait_for(lambda lines: any("Shown" in line for line in lines), "the new event")
        append(store_url, ("live", "Shown", {"n": 2}, None))
        reader.wait_for(lambda lines: len(lines) == 2, "the second new event")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
    assert [line.split()[-1] for line in reader.lines] == ['{"n":1}', '{"n":2}']
    assert not any("Hidden" in line or "Traceback" in line for line in reader.lines)


# trace ---------------------------------------------------------------------------------------


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_trace_merges_every_process_log_and_the_events_in_time_order(
    dirs: tuple[Path, Path],
) -> None:
    logs = dirs[1]
    [event] = append(local_store(dirs), ("payment-7", "PaymentRequested", {"amount": 25}, "req-42"))
    append(local_store(dirs), ("payment-8", "PaymentRequested", {"amount": 1}, "req-other"))
    at = event.occurred_at.astimezone(UTC)
    logs.mkdir()
    (logs / "gateway.log").write_text(
        f"{stamp(at - timedelta(seconds=2))} INFO gateway corr=req-42 request started path=/jogos\n"
        f"{stamp(at - timedelta(seconds=2))} INFO gateway corr=req-420 another request\n"
        "a line that is not a log record\n"
        f"{stamp(at + timedelta(seconds=3))} INFO gateway corr=req-42 request finished status=201\n"
    )
    (logs / "payments.log").write_text(
        f"{stamp(at - timedelta(seconds=1))} INFO payments corr=req-42 payment requested\n"
        f"{stamp(at + timedelta(seconds=1))} ERROR payments corr=req-42 "
        'charge failed error="card declined"\n'
        f"{stamp(at + timedelta(seconds=1))} INFO payments corr=req-other unrelated\n"
    )
    code, lines = cli("trace", "req-42")
    assert code == 0, lines
    assert lines[0].startswith("corr=req-42: 4 log lines, 1 events")
    body = lines[1:]
    assert [line.split()[1] for line in body] == [
        "gateway",
        "payments",
        "eventstore",
        "payments",
        "gateway",
    ]
    assert body[0].endswith("INFO    request started path=/jogos")
    assert "PaymentRequested payment-7 v1 corr=req-42" in body[2]
    assert body[3].endswith('ERROR   charge failed error="card declined"')
    assert not any("req-420" in line or "unrelated" in line for line in lines)


def test_trace_of_an_unknown_id_says_so_and_fails(dirs: tuple[Path, Path]) -> None:
    code, lines = cli("trace", "nobody")
    assert code == 1
    assert lines == [f"Nothing carries corr=nobody in {dirs[1]}/*.log or events."]


# serve and up ------------------------------------------------------------------------------


def test_serve_refuses_an_unknown_or_disabled_process(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    speak(monkeypatch, "en_US.UTF-8")
    code, lines = cli("serve", "no-such-process")
    assert code == 2
    assert "No process named 'no-such-process'" in lines[0]
    code, lines = cli("serve", "bus-publisher")  # the bus is embedded by default
    assert code == 2
    assert "not enabled" in lines[0]
    speak(monkeypatch, "C.UTF-8")  # no language asked for: the store's, pt-BR
    assert cli("serve", "bus-publisher") == (
        2,
        ["bus-publisher não está habilitado nas configurações atuais."],
    )


def test_the_bus_publisher_runs_only_for_a_rabbitmq_bus() -> None:
    assert PROCESSES["bus-publisher"].target == "gamestore.platform.bus.publisher:main"

    def names(settings: Settings) -> list[str]:
        return [spec.name for spec in enabled_processes(settings)]

    assert "bus-publisher" not in names(Settings(bus_url="embedded"))
    assert "bus-publisher" in names(Settings(bus_url="amqp://h/"))


def test_up_with_nothing_enabled_says_so_and_exits_0(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(up_command, "enabled_processes", lambda settings: [])
    code, lines = cli("up")
    assert code == 0
    assert len(lines) == 1
    assert lines[0].startswith("No process is enabled by the current settings (registered: ")
    assert lines[0].endswith("nothing to start.")
    assert dirs[0].is_dir() and dirs[1].is_dir()


def test_up_refuses_to_start_anything_when_a_port_is_taken(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("users", "games", "payments", "psp", "notifier"):
        monkeypatch.setenv(f"GAMESTORE_{name.upper()}_URL", f"http://127.0.0.1:{free_port()}")
    with socket.create_server(("127.0.0.1", 0)) as squatter:
        taken = squatter.getsockname()[1]
        monkeypatch.setenv("GAMESTORE_PORT", str(taken))
        speak(monkeypatch, "en_US.UTF-8")
        result = runner.invoke(app, ["up"])
        speak(monkeypatch, "C.UTF-8")  # no language asked for: the store's, pt-BR
        portuguese = runner.invoke(app, ["up"])
    assert result.exit_code == portuguese.exit_code == 1
    assert (
        f"Cannot start GameStore: port {taken} (127.0.0.1) is in use by another process "
        "(needed by gateway). Nothing was started."
    ) in " ".join(result.output.split())
    assert (
        f"Não é possível iniciar a GameStore: a porta {taken} (127.0.0.1) está em uso por outro "
        "processo (necessária para gateway). Nada foi iniciado."
    ) in " ".join(portuguese.output.split())
    assert not (dirs[0] / "run").exists() and list(dirs[1].iterdir()) == []


SERVE_DRIVER = """
import sys
from gamestore.cli.serve import serve_process
from gamestore.platform.config import Settings
from gamestore.processes import ProcessSpec
sys.exit(serve_process(ProcessSpec("{name}", "{module}:main"), Settings()))
"""

SLEEPER = """
import asyncio, os
from gamestore.platform.logs import get_logger
log = get_logger("sleeper")

async def main(settings, stop):
    log.info("sleeping", data_dir=settings.data_dir)
    await stop.wait()
    log.info("woken")
"""

CRASHER = """
async def main(settings, stop):
    raise RuntimeError("boom")
"""


def run_served(tmp_path: Path, name: str, module_text: str) -> subprocess.Popen[str]:
    (tmp_path / f"{name}_module.py").write_text(textwrap.dedent(module_text))
    driver = tmp_path / f"serve_{name}.py"
    driver.write_text(SERVE_DRIVER.format(name=name, module=f"{name}_module"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.Popen(
        [sys.executable, str(driver)], env=env, stderr=subprocess.PIPE, text=True
    )


def test_serve_runs_a_process_until_sigterm_and_logs_to_its_file(
    tmp_path: Path, dirs: tuple[Path, Path]
) -> None:
    process = run_served(tmp_path, "sleeper", SLEEPER)
    log_file = dirs[1] / "sleeper.log"
    deadline = time.monotonic() + 15
    while "sleeping" not in (log_file.read_text() if log_file.exists() else ""):
        assert time.monotonic() < deadline and process.poll() is None, "the process never slept"
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    lines = log_file.read_text().splitlines()
    assert [line.split(" ", 4)[1:3] for line in lines] == [["INFO", "sleeper"]] * 4
    messages = [line.split(" ", 4)[4] for line in lines]
    assert messages[0].startswith(f"process started pid={process.pid}")
    assert messages[1:] == [
        f"sleeping data_dir={dirs[0]}",
        "woken",
        'process stopped reason="stop signal"',
    ]


def test_serve_exits_1_and_logs_the_error_when_the_process_crashes(
    tmp_path: Path, dirs: tuple[Path, Path]
) -> None:
    process = run_served(tmp_path, "crasher", CRASHER)
    assert process.wait(timeout=15) == 1
    text = (dirs[1] / "crasher.log").read_text()
    assert " ERROR crasher corr=- process crashed error=" in text
    assert "RuntimeError: boom" in text


def test_a_spec_with_a_malformed_target_cannot_load() -> None:
    with pytest.raises(ValueError, match="module:function"):
        ProcessSpec("x", "no_colon").load()


# dlq -----------------------------------------------------------------------------------------


async def _poll(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + 15
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def dead_letter(data: Path, queue: str, *bodies: dict[str, object]) -> list[str]:
    """Queue ``bodies`` on the configured work queue and have a consumer reject each for good."""
    data.mkdir(parents=True, exist_ok=True)

    async def reject(message: Message) -> None:
        raise PermanentError("card declined")

    async def run() -> list[str]:
        work = await connect_queue(sqlite_url(data / "queue.db"))
        try:
            ids = [await work.enqueue(queue, body, correlation_id="corr-d") for body in bodies]
            stop = asyncio.Event()
            consumer = asyncio.create_task(work.consume(queue, reject, stop=stop))

            async def all_dead() -> bool:
                return {d.id for d in await work.dead_letters(queue)} >= set(ids)

            await _poll(all_dead, "the dead letters")
            stop.set()
            await consumer
            return ids
        finally:
            await work.close()

    return asyncio.run(run())


def handled_bodies(data: Path, queue: str, count: int) -> list[dict[str, object]]:
    """Consume ``queue`` until ``count`` messages were handled; their bodies."""
    bodies: list[dict[str, object]] = []

    async def accept(message: Message) -> None:
        bodies.append(message.body)

    async def run() -> None:
        work = await connect_queue(sqlite_url(data / "queue.db"))
        try:
            stop = asyncio.Event()
            consumer = asyncio.create_task(work.consume(queue, accept, stop=stop))

            async def enough() -> bool:
                return len(bodies) >= count

            await _poll(enough, f"{count} handled messages")
            stop.set()
            await consumer
        finally:
            await work.close()

    asyncio.run(run())
    return bodies


def test_dlq_list_shows_each_dead_letter_with_its_error(dirs: tuple[Path, Path]) -> None:
    [first] = dead_letter(dirs[0], "payments", {"payment_id": "p1"})
    [second] = dead_letter(dirs[0], "emails", {"to": "x"})
    code, lines = cli("dlq", "list")
    assert code == 0
    assert len(lines) == 3 and lines[-1] == "2 dead letters."
    fields = lines[0].split()
    assert fields[:3] == [first, "payments", "attempts=1"]
    assert fields[4] == "corr=corr-d"
    assert 'error="permanent: card declined"' in lines[0]
    assert fields[-1] == 'message={"payment_id":"p1"}'
    assert lines[1].split()[:2] == [second, "emails"]
    _, only = cli("dlq", "list", "--queue", "emails")
    assert [line.split()[0] for line in only] == [second, "1"]
    assert only[-1] == "1 dead letter in queue emails."


def bus_dead_letter(dirs: tuple[Path, Path], group: str) -> RecordedEvent:
    """An event the embedded bus's ``group`` gave up on, in the data dir's event store."""

    async def run() -> RecordedEvent:
        store = await connect(local_store(dirs))
        try:
            [event] = await store.append("s-1", [NewEvent("Poison", {"n": 1}, correlation_id="c")])
            bus = await connect_bus("embedded", store, backoff=Backoff(0.001, 0.002))
            stop = asyncio.Event()

            async def refuse(_: RecordedEvent) -> None:
                stop.set()
                raise ValueError("no such user")

            await bus.consume(group, ["Poison"], refuse, stop=stop, max_attempts=1)
            await bus.close()
            return event
        finally:
            await store.close()

    return asyncio.run(run())


def test_dlq_lists_and_replays_the_bus_s_dead_letters_too(dirs: tuple[Path, Path]) -> None:
    [queued] = dead_letter(dirs[0], "payments", {"payment_id": "p1"})
    event = bus_dead_letter(dirs, "notifier")
    code, lines = cli("dlq", "list")
    assert code == 0 and lines[-1] == "2 dead letters."
    bus_line = next(line for line in lines if " bus:notifier " in line)
    assert "ValueError: no such user" in bus_line and str(event.event_id) in bus_line
    _, only = cli("dlq", "list", "--source", "bus")
    assert only[-1] == "1 dead letter." and only[0] == bus_line
    dead_id = bus_line.split()[0]
    assert cli("dlq", "replay", dead_id) == (0, [f"Replayed {dead_id}."])
    assert [line.split()[0] for line in cli("dlq", "list")[1][:-1]] == [queued]


def test_dlq_replay_puts_the_message_back_on_its_queue(dirs: tuple[Path, Path]) -> None:
    [kept, replayed] = dead_letter(dirs[0], "payments", {"n": 1}, {"n": 2})
    code, lines = cli("dlq", "replay", replayed)
    assert (code, lines) == (0, [f"Replayed {replayed}."])
    _, listed = cli("dlq", "list")
    assert [line.split()[0] for line in listed[:-1]] == [kept]
    assert handled_bodies(dirs[0], "payments", 1) == [{"n": 2}]


def test_dlq_replay_of_an_unknown_id_fails(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    dead_letter(dirs[0], "payments", {"n": 1})
    speak(monkeypatch, "en_US.UTF-8")
    code, lines = cli("dlq", "replay", "no-such-id")
    assert (code, lines) == (1, ["No dead letter with id no-such-id."])
    speak(monkeypatch, "pt_BR.UTF-8")
    code, lines = cli("dlq", "replay", "no-such-id")
    assert (code, lines) == (1, ["Nenhuma mensagem morta com o id no-such-id."])
    _, listed = cli("dlq", "list")
    assert listed[-1] == "1 dead letter."


def test_dlq_purge_asks_first_and_can_keep_to_one_queue(dirs: tuple[Path, Path]) -> None:
    dead_letter(dirs[0], "payments", {"n": 1}, {"n": 2})
    dead_letter(dirs[0], "emails", {"n": 3})
    code, lines = cli("dlq", "purge", input="n\n")
    assert code == 1
    assert lines[0].startswith("Drop 3 dead letters? [y/N]")
    assert cli("dlq", "list")[1][-1] == "3 dead letters."
    assert cli("dlq", "purge", "--queue", "emails", "--yes") == (0, ["Purged 1 dead letter."])
    assert cli("dlq", "purge", input="y\n") == (
        0,
        ["Drop 2 dead letters? [y/N]: y", "Purged 2 dead letters."],
    )
    assert cli("dlq", "list")[1] == ["0 dead letters."]


UP_DRIVER = """
import asyncio, sys
from gamestore.cli.up import run_up
from gamestore.platform.config import Settings
from gamestore.platform.supervisor import Command
port = int(sys.argv[2])
commands = [Command("web", [sys.executable, sys.argv[1], str(port)])]
sys.exit(asyncio.run(run_up(commands, Settings(port=port), [port], grace=5)))
"""

WEB = """
import socket, sys, time
time.sleep(0.3)  # a slow start: the URL must wait for the port, not for the process
server = socket.create_server(("127.0.0.1", int(sys.argv[1])))
print("listening", flush=True)
while True:
    server.accept()[0].close()
"""


def test_up_prints_the_url_once_the_port_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    (tmp_path / "web.py").write_text(WEB)
    (tmp_path / "driver.py").write_text(UP_DRIVER)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(tmp_path / "driver.py"), str(tmp_path / "web.py"), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        reader = LineReader(process)
        url_line = f"GameStore is up at http://127.0.0.1:{port} (Ctrl-C stops it)"
        reader.wait_for(lambda lines: url_line in lines, "the URL")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()
    reader.wait_for(lambda lines: "All processes stopped." in lines, "the goodbye")
    lines = reader.lines
    assert lines.index("web        | listening") < lines.index(url_line)
    assert "supervisor | web stopped (was killed by SIGTERM)" in lines
