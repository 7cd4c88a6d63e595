"""Account operations for the people who run the server (the command line, the daily purge).

Operations (OperatorService, one transaction each):
- create_user: a regular account, its password checked and hashed as at registration.
- deactivate_user: turn an account off; its tokens stop working at once.
- purge_idle_guests: delete the guests idle for a while, with their chats.
"""

from datetime import timedelta

from src.api.auth.service import check_password, normalize_email
from src.core.enums import UserType
from src.core.exceptions import ConflictError, NotFoundError
from src.core.security import PasswordHasher
from src.lib.db.models import User
from src.lib.db.repositories.user import UserRepository
from src.lib.db.session import SessionFactory
from src.lib.db.types import utcnow


class OperatorService:
    """Operator actions on accounts; needs only the database and the password hasher."""

    def __init__(self, session_factory: SessionFactory, hasher: PasswordHasher) -> None:
        self.session_factory = session_factory
        self.hasher = hasher

    async def create_user(self, email: str, password: str) -> User:
        """Create a regular account.

        Raises:
            ValidationError: Malformed email or bad password length.
            ConflictError: The email is taken.
        """
        email = normalize_email(email)
        check_password(password)
        password_hash = await self.hasher.hash(password)
        async with self.session_factory.begin() as db:
            if await UserRepository.get_by_email(db, email) is not None:
                raise ConflictError("An account with this email already exists.")
            return await UserRepository.create(db, UserType.REGULAR, email, password_hash)

    async def deactivate_user(self, email: str) -> User:
        """Deactivate the account with this email (again, when it is already off).

        Raises:
            NotFoundError: No account has this email.
        """
        async with self.session_factory.begin() as db:
            user = await UserRepository.get_by_email(db, email.strip().lower())
            if user is None:
                raise NotFoundError("No account has this email.")
            user.is_active = False
            return user

    async def purge_idle_guests(self, idle_for: timedelta) -> int:
        """Delete the guests idle for at least `idle_for`, with their chats; how many."""
        async with self.session_factory.begin() as db:
            return await UserRepository.purge_idle_guests(db, utcnow() - idle_for)
