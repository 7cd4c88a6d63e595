"""Settings: production needs a real secret; development keeps a generated one."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from src.core.config import Settings


def test_production_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings(_env_file=None, environment="production", data_dir=tmp_path)


def test_production_refuses_a_short_secret(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(_env_file=None, environment="production", jwt_secret="short")


def test_production_accepts_a_long_secret() -> None:
    settings = Settings(_env_file=None, environment="production", jwt_secret="s" * 32)
    assert settings.jwt_key == "s" * 32


def test_graphiql_is_off_in_production_unless_asked_for() -> None:
    production: dict[str, Any] = {"environment": "production", "jwt_secret": "s" * 32}
    assert Settings(_env_file=None).graphiql_enabled
    assert not Settings(_env_file=None, **production).graphiql_enabled
    assert Settings(_env_file=None, graphiql=True, **production).graphiql_enabled


def test_development_generates_a_secret_once_and_keeps_it(tmp_path: Path) -> None:
    first = Settings(_env_file=None, data_dir=tmp_path).jwt_key
    second = Settings(_env_file=None, data_dir=tmp_path).jwt_key
    assert first == second
    assert len(first.encode()) >= 32
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o077 == 0


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("GUEST_DAILY_MESSAGES", "5")
    settings = Settings(_env_file=None)
    assert (settings.port, settings.guest_daily_messages) == (9001, 5)
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")


def test_the_example_env_file_gives_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = Path(__file__).resolve().parents[2] / ".env.example"
    (tmp_path / ".env").write_text(example.read_text())
    monkeypatch.chdir(tmp_path)
    from_example, defaults = Settings(), Settings(_env_file=None)
    assert from_example.model_dump() == defaults.model_dump()
