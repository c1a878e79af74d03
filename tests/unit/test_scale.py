"""``gamestore up --scale``: which replicas, on which ports, told where the others are."""

from __future__ import annotations

import pytest
import typer

from gamestore.cli.up import parse_scale, replica_command, replica_environment, shifted
from gamestore.platform.config import Settings, service_url, service_urls
from gamestore.processes import PROCESSES, ops_url


def _speak(monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", lang)


def test_scale_errors_are_in_the_users_language(monkeypatch: pytest.MonkeyPatch) -> None:
    _speak(monkeypatch, "C.UTF-8")  # no language asked for: the store's, pt-BR
    with pytest.raises(typer.BadParameter, match="informe uma quantidade de 1 a 9"):
        parse_scale(["games=0"])
    with pytest.raises(typer.BadParameter, match="psp roda como um único processo"):
        parse_scale(["psp=2"])


def test_scale_is_parsed_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    _speak(monkeypatch, "en_US.UTF-8")
    assert parse_scale(["games=2", "payment-worker=3"]) == {"games": 2, "payment-worker": 3}
    for bad, why in [
        (["wishlist=2"], "No process named 'wishlist'"),
        (["psp=2"], "psp runs as one process"),
        (["games=0"], "count from 1 to 9"),
        (["games"], "count from 1 to 9"),
    ]:
        with pytest.raises(typer.BadParameter, match=why):
            parse_scale(bad)


def test_each_replica_gets_ports_of_its_own_and_everyone_learns_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("GAMES", "PAYMENT_WORKER", "GATEWAY_OPS"):
        monkeypatch.delenv(f"GAMESTORE_{name}_URL", raising=False)
    assert shifted("http://127.0.0.1:8002", 2) == "http://127.0.0.1:8202"
    env = replica_environment({"games": 2, "payment-worker": 2, "gateway": 2})
    assert env == {
        "GAMESTORE_GAMES_URL": "http://127.0.0.1:8002,http://127.0.0.1:8102",
        "GAMESTORE_PAYMENT_WORKER_URL": "http://127.0.0.1:8007,http://127.0.0.1:8107",
        "GAMESTORE_GATEWAY_OPS_URL": "http://127.0.0.1:8010,http://127.0.0.1:8110",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert service_urls("games") == ["http://127.0.0.1:8002", "http://127.0.0.1:8102"]
    assert service_url("games") == "http://127.0.0.1:8002"  # replica 0, and its clients
    monkeypatch.setenv("GAMESTORE_REPLICA", "1")
    assert service_url("games") == "http://127.0.0.1:8102"  # where replica 1 listens
    assert service_url("users") == "http://127.0.0.1:8001"  # one replica: the one URL
    assert ops_url("payment-worker") == "http://127.0.0.1:8107"


def test_a_replica_command_names_the_replica_and_moves_the_gateway_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GAMESTORE_GATEWAY_OPS_URL", "http://127.0.0.1:8010,http://127.0.0.1:8110")
    settings = Settings(port=8000)
    first = replica_command(PROCESSES["gateway"], settings, 0)
    second = replica_command(PROCESSES["gateway"], settings, 1)
    assert (first.name, first.env, first.health_url) == ("gateway", {}, "http://127.0.0.1:8010")
    assert second.name == "gateway-2"
    assert second.env == {"GAMESTORE_REPLICA": "1", "GAMESTORE_PORT": "8100"}
    assert second.health_url == "http://127.0.0.1:8110"
    assert second.argv[-2:] == ["serve", "gateway"]
