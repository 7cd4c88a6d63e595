"""The long-lived parts of the application, built once at start-up and shared by requests."""

from dataclasses import dataclass

from src.core.config import Settings
from src.core.security import PasswordHasher
from src.lib.db.session import SessionFactory


@dataclass(frozen=True, slots=True)
class Runtime:
    """What every request can reach: settings, the session factory, the password hasher."""

    settings: Settings
    session_factory: SessionFactory
    hasher: PasswordHasher
    model_ids: tuple[str, ...]
