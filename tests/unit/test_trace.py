"""Reading TXT log lines and merging them with events: plain functions, no I/O but tmp files."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from gamestore.cli.trace import EVENT_STORE, LogLine, find_log_lines, merge, parse_line, styles_for
from gamestore.platform.eventstore import RecordedEvent

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def event(position: int, at: datetime, corr: str = "c1") -> RecordedEvent:
    return RecordedEvent(
        position=position,
        event_id=uuid.uuid4(),
        stream_id="payment-1",
        version=position,
        type="PaymentRequested",
        data={"amount": 5},
        occurred_at=at,
        correlation_id=corr,
        causation_id=None,
    )


def line(at: datetime, process: str, text: str, corr: str = "c1") -> LogLine:
    return LogLine(at, "INFO", process, corr, text)


def test_parse_line_reads_every_part() -> None:
    parsed = parse_line(
        "2025-03-01T12:00:00.125Z WARNING payment-worker corr=abc-1 charge retried "
        'attempt=2 error="psp timeout"\n'
    )
    assert parsed == LogLine(
        time=T0 + timedelta(milliseconds=125),
        level="WARNING",
        process="payment-worker",
        correlation_id="abc-1",
        text='charge retried attempt=2 error="psp timeout"',
    )


def test_parse_line_keeps_offsets_and_treats_naive_times_as_utc() -> None:
    offset = parse_line("2025-03-01T13:00:00+01:00 INFO games corr=x hello")
    naive = parse_line("2025-03-01T12:00:00 INFO games corr=x hello")
    assert offset is not None and naive is not None
    assert offset.time == naive.time == T0
    assert offset.time.utcoffset() == timedelta(hours=1)
    assert naive.time.tzinfo is UTC


def test_parse_line_accepts_an_empty_message() -> None:
    parsed = parse_line("2025-03-01T12:00:00Z INFO games corr=x")
    assert parsed is not None and parsed.text == ""


def test_parse_line_rejects_what_is_not_a_log_record() -> None:
    for text in (
        "",
        "Traceback (most recent call last):",
        "2025-03-01T12:00:00Z INFO games no correlation here",
        "yesterday INFO games corr=x hello",
        "2025-03-01T12:00:00Z info games corr=x lower-case level",
    ):
        assert parse_line(text) is None, text


def test_find_log_lines_keeps_only_the_exact_id_from_every_log_file(tmp_path: Path) -> None:
    (tmp_path / "gateway.log").write_text(
        "2025-03-01T12:00:00Z INFO gateway corr=abc in\n"
        "2025-03-01T12:00:01Z INFO gateway corr=abcd a longer id\n"
        "garbage corr=abc but not a record\n"
    )
    (tmp_path / "games.log").write_text("2025-03-01T12:00:02Z INFO games corr=abc out\n")
    (tmp_path / "games.txt").write_text("2025-03-01T12:00:03Z INFO games corr=abc not a .log\n")
    found = find_log_lines(tmp_path, "abc")
    # file by file, files in name order
    assert [(entry.process, entry.text) for entry in found] == [("games", "out"), ("gateway", "in")]


def test_find_log_lines_in_a_missing_directory_finds_nothing(tmp_path: Path) -> None:
    assert find_log_lines(tmp_path / "absent", "abc") == []


def test_merge_interleaves_processes_and_events_by_time() -> None:
    lines = [
        line(T0, "gateway", "request in"),
        line(T0 + timedelta(seconds=3), "gateway", "request out"),
        line(T0 + timedelta(seconds=1), "payments", "requested"),
    ]
    later_zone = timezone(timedelta(hours=-3))
    events = [event(7, (T0 + timedelta(seconds=2)).astimezone(later_zone))]
    merged = merge(lines, events)
    assert [(entry.source, entry.text.plain.split()[0]) for entry in merged] == [
        ("gateway", "request"),
        ("payments", "requested"),
        (EVENT_STORE, "7"),
        ("gateway", "request"),
    ]
    assert merged[2].level == "EVENT"
    assert "PaymentRequested payment-1 v7 corr=c1" in merged[2].text.plain


def test_merge_keeps_file_order_for_equal_times_and_handles_naive_event_times() -> None:
    lines = [line(T0, "a", "first"), line(T0, "b", "second")]
    naive = event(1, (T0 + timedelta(seconds=1)).replace(tzinfo=None))
    merged = merge(lines, [naive])
    assert [entry.source for entry in merged] == ["a", "b", EVENT_STORE]


def test_styles_follow_first_appearance_and_events_keep_theirs() -> None:
    styles = styles_for(["games", EVENT_STORE, "gateway", "games"])
    assert styles[EVENT_STORE] == "bold white"
    assert styles["games"] != styles["gateway"]
    assert list(styles) == [EVENT_STORE, "games", "gateway"]
