"""``gamestore admin create`` against the users database, with the users process down."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from gamestore.users.bootstrap import build
from gamestore.users.domain import InvalidCredentials
from tests.integration.users.conftest import SettingsFactory
from tests.integration.users.support import PASSWORD, new_email

GAMESTORE = Path(sys.executable).with_name("gamestore")


async def admin_create(
    settings_env: dict[str, str], *args: str, typed: str | None = None
) -> tuple[int, str]:
    """Run the command; ``typed`` is what the operator types at its prompts, if anything."""
    process = await asyncio.create_subprocess_exec(
        str(GAMESTORE),
        "admin",
        "create",
        *args,
        env={**os.environ, **settings_env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL if typed is None else asyncio.subprocess.PIPE,
    )
    output, _ = await process.communicate(None if typed is None else typed.encode())
    return process.returncode or 0, output.decode()


def _env(make_settings: SettingsFactory) -> dict[str, str]:
    settings = make_settings()
    return {
        "GAMESTORE_DATA_DIR": str(settings.data_dir),
        "GAMESTORE_LOG_DIR": str(settings.log_dir),
        "GAMESTORE_EVENTSTORE_URL": settings.event_store_url,
        "GAMESTORE_USERS_DB_URL": os.environ["GAMESTORE_USERS_DB_URL"],
        "GAMESTORE_ARGON2_TIME_COST": "1",
        "GAMESTORE_ARGON2_MEMORY_COST_KIB": "64",
        "GAMESTORE_ARGON2_PARALLELISM": "1",
    }


async def login_works(make_settings: SettingsFactory, email: str, password: str) -> bool:
    async with build(make_settings()) as service:
        try:
            await service.sessions.login(email, password)
        except InvalidCredentials:
            return False
    return True


async def test_a_new_admin_without_a_password_is_refused_when_none_can_be_typed(
    make_settings: SettingsFactory,
) -> None:
    email = new_email("root")

    code, output = await admin_create(_env(make_settings), "--email", email)

    assert code != 0, output
    async with build(make_settings()) as service:
        users, _ = await service.accounts.page(1, 1000)
    assert email not in [user.email for user in users]


async def test_the_typed_password_must_be_confirmed(make_settings: SettingsFactory) -> None:
    email = new_email("root")

    code, output = await admin_create(
        _env(make_settings), "--email", email, typed=f"{PASSWORD}\nsomething-else\n"
    )

    assert code != 0 and PASSWORD not in output, output
    assert not await login_works(make_settings, email, PASSWORD)


async def test_creates_an_admin_who_can_log_in(make_settings: SettingsFactory) -> None:
    email = new_email("root")

    code, output = await admin_create(_env(make_settings), "--email", email, "--password", PASSWORD)

    assert code == 0, output
    assert "Administrador criado" in output and PASSWORD not in output
    async with build(make_settings()) as service:
        tokens = await service.sessions.login(email, PASSWORD)
        recorded = await service.store.read_all(types=["UserRegistered"])
    assert tokens.access.token
    assert [e.data["role"] for e in recorded if e.data["email"] == email] == ["admin"]


async def test_creates_an_admin_with_a_typed_and_confirmed_password(
    make_settings: SettingsFactory,
) -> None:
    email = new_email("root")

    code, output = await admin_create(
        _env(make_settings), "--email", email, typed=f"{PASSWORD}\n{PASSWORD}\n"
    )

    assert code == 0, output
    assert "Administrador criado" in output and PASSWORD not in output
    assert await login_works(make_settings, email, PASSWORD)


async def test_promoting_keeps_the_password_even_when_one_is_given(
    make_settings: SettingsFactory,
) -> None:
    email = new_email()
    async with build(make_settings()) as service:
        player = await service.accounts.register("Ada", email, PASSWORD)
        await service.relay.relay_once()

    code, output = await admin_create(
        _env(make_settings), "--email", email.upper(), "--password", "Other-passw0rd!"
    )

    assert code == 0, output
    assert "promovida a administrador" in output and "senha atual foi mantida" in output
    assert "--reset-password" in output
    assert await login_works(make_settings, email, PASSWORD)
    assert not await login_works(make_settings, email, "Other-passw0rd!")
    async with build(make_settings()) as service:
        account = await service.accounts.current(player.id)
        updates = await service.store.read_stream(f"user-{player.id}")
    assert account is not None and account.role == "admin"
    assert updates[-1].type == "UserUpdated" and updates[-1].data["changed"] == ["role"]


async def test_promoting_without_a_password_asks_for_none(make_settings: SettingsFactory) -> None:
    email = new_email()
    async with build(make_settings()) as service:
        await service.accounts.register("Ada", email, PASSWORD)
        await service.relay.relay_once()

    code, output = await admin_create(_env(make_settings), "--email", email)

    assert code == 0, output
    assert "senha atual foi mantida" in output and "--reset-password" not in output
    assert await login_works(make_settings, email, PASSWORD)


async def test_promoting_an_admin_again_changes_nothing(make_settings: SettingsFactory) -> None:
    email = new_email()
    await admin_create(_env(make_settings), "--email", email, "--password", PASSWORD)

    code, output = await admin_create(_env(make_settings), "--email", email)

    assert code == 0, output
    assert "já era de administrador" in output
    assert await login_works(make_settings, email, PASSWORD)


async def test_promotes_an_existing_player_and_resets_the_password_when_asked(
    make_settings: SettingsFactory,
) -> None:
    email = new_email()
    async with build(make_settings()) as service:
        player = await service.accounts.register("Ada", email, PASSWORD)
        await service.relay.relay_once()
    new_password = "Adm1n-password!"

    code, output = await admin_create(
        _env(make_settings),
        "--email",
        email.upper(),
        "--password",
        new_password,
        "--reset-password",
    )

    assert code == 0, output
    assert "promovida a administrador" in output and "Senha redefinida" in output
    async with build(make_settings()) as service:
        tokens = await service.sessions.login(email, new_password)
        account = await service.accounts.current(player.id)
        updates = await service.store.read_stream(f"user-{player.id}")
    assert tokens.access.token and account is not None and account.role == "admin"
    assert updates[-1].type == "UserUpdated" and updates[-1].data["changed"] == ["role", "password"]
    assert not await login_works(make_settings, email, PASSWORD)


async def test_the_password_policy_applies(make_settings: SettingsFactory) -> None:
    code, output = await admin_create(
        _env(make_settings), "--email", new_email(), "--password", "weak"
    )

    assert code == 2
    assert "password" in output


async def test_promoting_succeeds_while_the_accounts_last_event_waits_for_another_relay(
    make_settings: SettingsFactory,
) -> None:
    email = new_email()
    async with build(make_settings()) as service:
        player = await service.accounts.register("Ada", email, PASSWORD)

    code, output = await admin_create(_env(make_settings), "--email", email)

    assert code == 0, output  # the account is an admin; its event is relayed later
    assert "promovida a administrador" in output
    async with build(make_settings()) as service:
        account = await service.accounts.current(player.id)
    assert account is not None and account.role == "admin"


async def test_mistakes_are_explained_in_the_users_language(
    make_settings: SettingsFactory,
) -> None:
    args = ("--email", "root-at-example", "--password", "abcdefgh")
    no_language = {**_env(make_settings), "LANG": "C.UTF-8", "LANGUAGE": "", "LC_ALL": ""}

    code, output = await admin_create(no_language, *args)

    assert code == 2
    lines = output.splitlines()
    assert "--email: Informe um endereço de e-mail válido." in lines
    assert any(
        line.startswith("--password: A senha deve ter de 8 a 128 caracteres") for line in lines
    )
    assert "Value error" not in output

    code, output = await admin_create({**no_language, "LANG": "en_US.UTF-8"}, *args)

    assert code == 2
    assert "--email: Must be a valid email address." in output.splitlines()
