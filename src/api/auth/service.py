"""Account rules: registration, login, guests, token rotation.

Operations (AuthService, one transaction each):
- register: a new regular user, or a guest upgraded in place (same id, chats kept).
- login: email and password; the same error and the same work for an unknown email.
- login_as_guest: a new guest.
- refresh: rotate a refresh token; reusing a rotated one revokes its whole family.
- logout: revoke a refresh token.
- authenticate: the active user behind an access token, and when the token expires.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from src.api.runtime import Runtime
from src.core.enums import UserType
from src.core.exceptions import (
    ConflictError,
    RateLimitedError,
    UnauthenticatedError,
    ValidationError,
)
from src.core.security import (
    create_access_token,
    decode_access_token,
    hash_refresh_token,
    new_refresh_token,
)
from src.core.text import NUL
from src.lib.db.models import User
from src.lib.db.repositories.refresh_token import RefreshTokenRepository
from src.lib.db.repositories.user import UserRepository
from src.lib.db.types import utcnow

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 1024
BAD_CREDENTIALS = "Invalid email or password."
BAD_REFRESH_TOKEN = "Invalid or expired refresh token."
EMAIL_TAKEN = "An account with this email already exists."


@dataclass(frozen=True, slots=True)
class Session:
    """What a successful sign-in returns: the user and a fresh token pair."""

    user: User
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class Identity:
    """Who an access token signs in, until when."""

    user: User
    expires_at: datetime


def normalize_email(email: str) -> str:
    """Trim, lower-case and validate an email address.

    Raises:
        ValidationError: The address is malformed.
    """
    candidate = email.strip().lower()
    try:
        return validate_email(candidate, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValidationError("Enter a valid email address.", field="email") from error


def check_password(password: str) -> None:
    """Enforce the password length rules.

    Raises:
        ValidationError: Too short or too long.
    """
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise ValidationError(
            f"Password must be {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters.",
            field="password",
        )


class AuthService:
    """Account operations, each one unit of work.

    `client` (the caller's address) keys the per-client limits on sign-in and sign-up.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.session_factory = runtime.session_factory
        self.settings = runtime.settings
        self.hasher = runtime.hasher
        self.limiter = runtime.limiter

    async def register(
        self, email: str, password: str, client: str, guest_id: uuid.UUID | None = None
    ) -> Session:
        """Create a regular account, or upgrade the calling guest in place.

        Raises:
            ValidationError: Malformed email or bad password length.
            ConflictError: The email is taken, or the guest was registered meanwhile (by a
                simultaneous call).
        """
        email = normalize_email(email)
        check_password(password)
        await self._throttle_signup(client)
        async with self.session_factory.begin() as db:
            if await UserRepository.get_by_email(db, email) is not None:
                raise ConflictError(EMAIL_TAKEN)
            password_hash = await self.hasher.hash(password)
            guest = await UserRepository.get(db, guest_id) if guest_id else None
            try:
                if guest is not None and guest.user_type == UserType.GUEST:
                    user = await self._upgrade(db, guest, email, password_hash)
                else:
                    user = await UserRepository.create(db, UserType.REGULAR, email, password_hash)
            except IntegrityError as error:  # the email was taken since it was looked up
                raise ConflictError(EMAIL_TAKEN) from error
            return await self._start_session(db, user)

    async def login(self, email: str, password: str, client: str) -> Session:
        """Sign in with email and password; upgrades a hash made with old parameters.

        Raises:
            UnauthenticatedError: Unknown email or wrong password (one message for both).
        """
        email = email.strip().lower()
        await self._throttle(f"login:{client}:{email}", "Too many sign-in attempts.")
        if len(password) > PASSWORD_MAX_LENGTH or NUL in email:  # no account has such an email
            raise UnauthenticatedError(BAD_CREDENTIALS)
        async with self.session_factory.begin() as db:
            user = await UserRepository.get_by_email(db, email)
            password_hash = user.password_hash if user is not None else None
            if not await self.hasher.verify(password_hash, password) or user is None:
                raise UnauthenticatedError(BAD_CREDENTIALS)
            if not user.is_active:
                raise UnauthenticatedError(BAD_CREDENTIALS)
            if password_hash is not None and self.hasher.needs_rehash(password_hash):
                user.password_hash = await self.hasher.hash(password)
            return await self._start_session(db, user)

    async def login_as_guest(self, client: str) -> Session:
        """Create a guest and sign it in.

        Raises:
            RateLimitedError: Too many accounts were created from this client lately.
        """
        await self._throttle_signup(client)
        async with self.session_factory.begin() as db:
            user = await UserRepository.create(db, UserType.GUEST, None, None)
            return await self._start_session(db, user)

    async def refresh(self, refresh_token: str) -> Session:
        """Rotate a refresh token.

        Raises:
            UnauthenticatedError: Unknown, expired or revoked token; a revoked (reused) token
                also revokes every token of its family.
        """
        token_hash = hash_refresh_token(refresh_token)
        now = utcnow()
        async with self.session_factory.begin() as db:
            claimed = await RefreshTokenRepository.claim(db, token_hash, now)
            if claimed is not None:
                user = await UserRepository.get(db, claimed.user_id)
                if user is None or not user.is_active:
                    raise UnauthenticatedError(BAD_REFRESH_TOKEN)
                return await self._start_session(db, user, family_id=claimed.family_id)
            stale = await RefreshTokenRepository.get_by_hash(db, token_hash)
            if stale is not None and stale.revoked_at is not None:
                await RefreshTokenRepository.revoke_family(db, stale.family_id, now)
        raise UnauthenticatedError(BAD_REFRESH_TOKEN)

    async def logout(self, refresh_token: str) -> bool:
        """Revoke a refresh token; True when it was live."""
        async with self.session_factory.begin() as db:
            claimed = await RefreshTokenRepository.claim(
                db, hash_refresh_token(refresh_token), utcnow()
            )
        return claimed is not None

    async def authenticate(self, access_token: str) -> Identity:
        """The active user an access token was issued to, and when the token expires.

        Raises:
            UnauthenticatedError: Bad token, or the user is gone or deactivated.
        """
        claims = decode_access_token(access_token, self.settings.jwt_key)
        async with self.session_factory() as db:
            user = await UserRepository.get(db, claims.user_id)
        if user is None or not user.is_active:
            raise UnauthenticatedError("Invalid or expired token.")
        return Identity(user, claims.expires_at)

    @staticmethod
    async def _upgrade(db: AsyncSession, guest: User, email: str, password_hash: str) -> User:
        """The guest made regular, unless a simultaneous registration did it first."""
        if not await UserRepository.upgrade_guest(db, guest.id, email, password_hash):
            raise ConflictError("This guest account has already been registered.")
        await db.refresh(guest)
        return guest

    async def _throttle_signup(self, client: str) -> None:
        await self._throttle(
            f"signup:{client}",
            "Too many accounts created from here; try again later.",
            self.settings.signups_per_hour,
            3600,
        )

    async def _throttle(
        self, key: str, message: str, limit: int | None = None, window: float | None = None
    ) -> None:
        """Count an attempt; raise RateLimitedError past the limit (login limits by default)."""
        retry_after = await self.limiter.hit(
            key,
            limit or self.settings.login_attempts_per_window,
            window or self.settings.login_window_seconds,
        )
        if retry_after is not None:
            raise RateLimitedError(message, retry_after=retry_after)

    async def _start_session(
        self, db: AsyncSession, user: User, family_id: uuid.UUID | None = None
    ) -> Session:
        ttl = self.settings.access_token_ttl_seconds
        refresh_token = new_refresh_token()
        await RefreshTokenRepository.add(
            db,
            user_id=user.id,
            token_hash=hash_refresh_token(refresh_token),
            family_id=family_id or uuid.uuid4(),
            expires_at=utcnow() + timedelta(days=self.settings.refresh_token_ttl_days),
        )
        access_token = create_access_token(user.id, self.settings.jwt_key, ttl)
        return Session(user, access_token, refresh_token, ttl)
