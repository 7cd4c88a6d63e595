"""Apply Alembic migrations from code (at start-up and in tests)."""

from pathlib import Path

from alembic.config import Config

from alembic import command

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def alembic_config(database_url: str) -> Config:
    """An Alembic config for this project, pointed at the given database."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    """Bring the database to the latest revision; blocking (run it in a thread from async code)."""
    command.upgrade(alembic_config(database_url), "head")
