"""The relay appends an outbox's batches in runs of distinct streams (one group commit each),
so a stream's batches never race one another."""

from __future__ import annotations

from types import SimpleNamespace

from gamestore.platform.outbox import _waves


def _batch(stream: str, n: int) -> list[SimpleNamespace]:
    return [SimpleNamespace(stream_id=stream, id=n)]


def test_batches_of_distinct_streams_share_a_wave_in_order() -> None:
    batches = [_batch("a", 1), _batch("b", 2), _batch("c", 3)]
    assert list(_waves(batches)) == [batches]


def test_a_streams_next_batch_waits_for_the_next_wave() -> None:
    a1, b1, a2, c1, b2 = (
        _batch("a", 1),
        _batch("b", 2),
        _batch("a", 3),
        _batch("c", 4),
        _batch("b", 5),
    )
    assert list(_waves([a1, b1, a2, c1, b2])) == [[a1, b1], [a2, c1, b2]]


def test_no_batches_no_waves() -> None:
    assert list(_waves([])) == []
