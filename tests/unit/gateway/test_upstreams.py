"""Replicas of one service: taken in turn; one that failed to connect sits out a while."""

from __future__ import annotations

import pytest

from gamestore.gateway.upstreams import Replicas, Upstreams


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_replicas_are_taken_in_turn() -> None:
    replicas = Replicas(["http://a", "http://b/", "http://c"])
    assert [replicas.pick() for _ in range(6)] == ["http://a", "http://b", "http://c"] * 2


def test_a_replica_that_failed_sits_out_its_rest_then_comes_back() -> None:
    clock = Clock()
    replicas = Replicas(["http://a", "http://b"], rest=5.0, clock=clock)
    replicas.failed("http://a")
    assert {replicas.pick() for _ in range(4)} == {"http://b"}
    clock.now += 5.0
    assert {replicas.pick() for _ in range(4)} == {"http://a", "http://b"}


def test_when_every_replica_rests_the_one_back_soonest_is_tried() -> None:
    clock = Clock()
    replicas = Replicas(["http://a", "http://b"], rest=5.0, clock=clock)
    replicas.failed("http://b")
    clock.now += 1.0
    replicas.failed("http://a")
    assert replicas.pick() == "http://b"


def test_a_single_url_is_always_the_answer() -> None:
    replicas = Replicas(["http://only"])
    replicas.failed("http://only")
    assert replicas.pick() == "http://only"


def test_upstreams_map_each_service_to_its_next_replica() -> None:
    upstreams = Upstreams({"games": ["http://g1", "http://g2"], "users": ["http://u"]})
    assert [upstreams["games"] for _ in range(3)] == ["http://g1", "http://g2", "http://g1"]
    assert upstreams["users"] == "http://u"
    assert set(upstreams) == {"games", "users"}
    assert "games" in upstreams and "payments" not in upstreams
    assert upstreams["games"] == "http://g2"  # a membership test took no turn
    assert len(upstreams.replicas("games")) == 2
    with pytest.raises(ValueError, match="at least one URL"):
        Replicas([])
