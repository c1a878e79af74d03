"""The process supervisor against real OS processes (tiny Python scripts in tmp_path)."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gamestore.platform.supervisor import Command, RestartPolicy, Supervisor, describe_exit

FAST = RestartPolicy(base_delay=0.05, max_delay=1.0, reset_after=30.0)


def script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return path


def command(name: str, path: Path, *args: str) -> Command:
    return Command(name, [sys.executable, str(path), *args])


async def until(condition: Callable[[], bool], what: str, within: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie nobody has reaped yet counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def test_every_output_line_is_prefixed_with_its_process_name(tmp_path: Path) -> None:
    talker = script(
        tmp_path,
        "talker",
        """
        import sys, time
        print("hello from", sys.argv[1])
        print("to stderr", file=sys.stderr)
        time.sleep(60)
        """,
    )
    out = io.StringIO()
    supervisor = Supervisor(
        [command("alpha", talker, "alpha"), command("beta", talker, "beta")], out, grace=5
    )
    stop = asyncio.Event()
    running = asyncio.create_task(supervisor.run(stop))
    await until(lambda: out.getvalue().count("to stderr") == 2, "both processes to talk")
    stop.set()
    assert await running == 0

    lines = out.getvalue().splitlines()
    assert "alpha      | hello from alpha" in lines
    assert "beta       | hello from beta" in lines
    assert "alpha      | to stderr" in lines
    assert all(re.match(r"^(alpha|beta|supervisor) +\| ", line) for line in lines), lines
    assert any(re.match(r"^supervisor \| alpha started \(pid \d+\)$", line) for line in lines)


async def test_colour_wraps_each_prefix_in_its_own_colour(tmp_path: Path) -> None:
    quick = script(tmp_path, "quick", "print('hi')\n")
    out = io.StringIO()
    supervisor = Supervisor(
        [command("one", quick), command("two", quick)], out, color=True, policy=FAST
    )
    assert await supervisor.run(asyncio.Event()) == 0
    text = out.getvalue()
    assert "\x1b[36mone        |\x1b[0m hi" in text
    assert "\x1b[35mtwo        |\x1b[0m hi" in text


async def supervised_until(supervisor: Supervisor, condition: Callable[[], bool], what: str) -> int:
    """Run ``supervisor`` until ``condition`` holds, then stop it; its exit code."""
    stop = asyncio.Event()
    running = asyncio.create_task(supervisor.run(stop))
    try:
        await until(condition, what, within=30)
    finally:
        stop.set()
    return await asyncio.wait_for(running, 20)


async def test_a_crash_loop_is_restarted_for_ever_at_a_capped_pace(tmp_path: Path) -> None:
    starts, status = tmp_path / "starts", tmp_path / "run" / "supervisor.json"
    crasher = script(
        tmp_path,
        "crasher",
        """
        import os, sys
        with open(sys.argv[1], "a") as f:
            f.write(f"{os.getpid()}\\n")
        sys.exit(3)
        """,
    )
    out = io.StringIO()
    policy = RestartPolicy(base_delay=0.02, max_delay=0.08, reset_after=30.0)
    supervisor = Supervisor(
        [command("crasher", crasher, str(starts))], out, policy=policy, status=status
    )
    seen: list[dict[str, object]] = []

    def looping() -> bool:
        if status.exists():
            seen.append(json.loads(status.read_text())["processes"]["crasher"])
        return len(lines_of(starts)) >= 10

    assert await supervised_until(supervisor, looping, "ten starts") == 0

    pids = lines_of(starts)
    assert len(set(pids)) == len(pids) >= 10  # never given up on
    text = out.getvalue()
    assert "giving up" not in text
    announced = [float(d) for d in re.findall(r"restarting it in ([\d.]+) s", text)]
    assert announced[:3] == [0.02, 0.04, 0.08] and set(announced[3:]) == {0.08}  # capped
    assert "(9 crashes in a row)" in text
    restarting = [row for row in seen if row["state"] == "restarting"]
    assert restarting and restarting[-1]["last_exit"] == "exited with code 3"
    assert max(int(str(row["crashes_in_a_row"])) for row in restarting) >= 9
    assert json.loads(status.read_text())["processes"]["crasher"]["state"] == "stopped"


async def test_restart_backoff_doubles_after_each_fast_crash(tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    crasher = script(
        tmp_path,
        "crasher",
        """
        import sys, time
        with open(sys.argv[1], "a") as f:
            f.write(f"{time.time()}\\n")
        sys.exit(1)
        """,
    )
    policy = RestartPolicy(base_delay=0.2, max_delay=5, reset_after=30)
    out = io.StringIO()
    supervisor = Supervisor([command("crasher", crasher, str(starts))], out, policy=policy)

    await supervised_until(supervisor, lambda: len(lines_of(starts)) >= 4, "four starts")

    times = [float(line) for line in lines_of(starts)][:4]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(gaps) == 3
    for gap, delay in zip(gaps, (0.2, 0.4, 0.8), strict=True):
        assert delay <= gap < delay + 1.5, gaps
    assert gaps[2] - gaps[0] > 0.4, gaps
    announced = re.findall(r"restarting it in ([\d.]+) s", out.getvalue())
    assert announced[:3] == ["0.20", "0.40", "0.80"]


async def test_backoff_resets_once_a_process_stayed_up(tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    flaky = script(
        tmp_path,
        "flaky",
        """
        import sys, time
        with open(sys.argv[1], "a+") as f:
            f.seek(0)
            before = len(f.read().splitlines())
            f.write("start\\n")
        if before == 2:
            time.sleep(0.8)  # the third run stays up past reset_after
        sys.exit(1)
        """,
    )
    policy = RestartPolicy(base_delay=0.05, max_delay=5, reset_after=0.5)
    out = io.StringIO()
    supervisor = Supervisor([command("flaky", flaky, str(starts))], out, policy=policy)

    await supervised_until(supervisor, lambda: len(lines_of(starts)) >= 5, "five starts")

    # Without the reset the fourth delay would be 0.4 s; with it, the count starts over.
    announced = re.findall(r"restarting it in ([\d.]+) s", out.getvalue())
    assert announced[:4] == ["0.05", "0.10", "0.05", "0.10"]


async def test_a_process_that_exits_cleanly_is_not_restarted(tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    done = script(tmp_path, "done", "import sys; open(sys.argv[1], 'a').write('x\\n')\n")
    out = io.StringIO()
    supervisor = Supervisor([command("done", done, str(starts))], out, policy=FAST)

    assert await asyncio.wait_for(supervisor.run(asyncio.Event()), 20) == 0
    assert lines_of(starts) == ["x"]
    assert "done exited cleanly; not restarting it" in out.getvalue()


async def test_a_missing_executable_counts_as_a_crash(tmp_path: Path) -> None:
    out = io.StringIO()
    missing = Command("ghost", [str(tmp_path / "no-such-program")])
    supervisor = Supervisor([missing], out, policy=FAST)

    def four_tries() -> bool:
        return out.getvalue().count("ghost could not start: [Errno 2]") >= 4

    assert await supervised_until(supervisor, four_tries, "four tries") == 0
    text = out.getvalue()
    assert "ghost could not start; restarting it in 0.20 s (3 crashes in a row)" in text
    assert supervisor.started.is_set()


async def test_a_process_ignoring_sigterm_is_killed_after_the_grace_time(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    stubborn = script(
        tmp_path,
        "stubborn",
        """
        import os, signal, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with open(sys.argv[1], "a") as f:
            f.write(f"{os.getpid()}\\n")
        time.sleep(60)
        """,
    )
    polite = script(
        tmp_path,
        "polite",
        """
        import os, sys, time
        with open(sys.argv[1], "a") as f:
            f.write(f"{os.getpid()}\\n")
        time.sleep(60)
        """,
    )
    out = io.StringIO()
    supervisor = Supervisor(
        [command("stubborn", stubborn, str(pids)), command("polite", polite, str(pids))],
        out,
        grace=0.5,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(supervisor.run(stop))
    await until(lambda: len(lines_of(pids)) == 2, "both processes to start")

    began = time.monotonic()
    stop.set()
    assert await asyncio.wait_for(running, 10) == 0
    took = time.monotonic() - began

    assert 0.5 <= took < 5
    assert not any(alive(int(pid)) for pid in lines_of(pids))
    text = out.getvalue()
    assert "stubborn did not stop within 0.5 s; killing it" in text
    assert "stubborn stopped (was killed by SIGKILL)" in text
    assert "polite stopped (was killed by SIGTERM)" in text


CHILD = """
import os, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
with open(sys.argv[1], "a") as f:
    f.write(f"{os.getpid()}\\n{grandchild.pid}\\n")
print("ready", flush=True)
time.sleep(60)
"""

DRIVER = """
import asyncio, sys
from gamestore.platform.supervisor import Command, Supervisor, run_until_signalled
child, pids = sys.argv[1], sys.argv[2]
commands = [Command(f"child{i}", [sys.executable, child, pids]) for i in range(3)]
supervisor = Supervisor(commands, sys.stdout, grace=3)
sys.exit(asyncio.run(run_until_signalled(supervisor)))
"""


def start_driver(tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    pids = tmp_path / "pids"
    child = script(tmp_path, "child", CHILD)
    driver = script(tmp_path, "driver", DRIVER)
    process = subprocess.Popen(
        [sys.executable, str(driver), str(child), str(pids)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_until(lambda: len(lines_of(pids)) == 6, "three children and their own children")
    return process, pids


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_supervisor_stops_every_process_and_exits_0(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    driver, pids = start_driver(tmp_path)
    started = [int(pid) for pid in lines_of(pids)]
    assert all(alive(pid) for pid in started)

    driver.send_signal(stop_signal)
    output, _ = driver.communicate(timeout=15)

    assert driver.returncode == 0, output
    # The grandchildren share their parent's process group, so they are stopped too.
    wait_until(lambda: not any(alive(pid) for pid in started), "every process to be gone", 5)
    assert output.count("| ready") == 3
    assert output.count("stopped (was killed by SIGTERM)") == 3


def test_children_die_with_a_killed_supervisor(tmp_path: Path) -> None:
    driver, pids = start_driver(tmp_path)
    children = [int(pid) for pid in lines_of(pids)[::2]]

    driver.kill()
    driver.wait(timeout=5)

    wait_until(lambda: not any(alive(pid) for pid in children), "orphaned children to die", 10)
    for grandchild in lines_of(pids)[1::2]:  # no death signal for these: clean up by hand
        if alive(int(grandchild)):
            os.kill(int(grandchild), signal.SIGKILL)


def test_restart_policy_delays_double_up_to_the_maximum() -> None:
    policy = RestartPolicy(base_delay=0.5, max_delay=3.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    default = RestartPolicy()  # 1 s → 30 s, a healthy minute starts a new series
    assert [default.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert default.reset_after == 60


def test_exit_descriptions() -> None:
    assert describe_exit(2) == "exited with code 2"
    assert describe_exit(-9) == "was killed by SIGKILL"
    assert describe_exit(None) == "could not start"


def test_commands_need_distinct_names() -> None:
    with pytest.raises(ValueError, match="distinct names"):
        Supervisor([Command("a", ["true"]), Command("a", ["true"])], io.StringIO())
    with pytest.raises(ValueError):
        Supervisor([], io.StringIO())
