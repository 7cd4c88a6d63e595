"""Password hashing (Argon2id) and tokens (JWT access tokens, opaque refresh tokens).

Operations:
- PasswordHasher: hash, verify (in a worker thread, constant work for unknown users), rehash check.
- create_access_token / decode_access_token: HS256 JWTs with sub, exp, iat, jti and typ.
- new_refresh_token / hash_refresh_token: random refresh tokens, stored only as SHA-256.
"""

import asyncio
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import argon2
from jose import JWTError, jwt

from src.core.exceptions import UnauthenticatedError

JWT_ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"
INVALID_TOKEN = "Invalid or expired token."
CLOCK_LEEWAY = 30  # seconds a token's `iat` may be ahead of our clock


class PasswordHasher:
    """Argon2id hashing with the configured cost; slow work runs off the event loop."""

    def __init__(self, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        """Hash a password."""
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Check a password; with no hash, spend the same work on a dummy and fail."""
        target = password_hash or self._dummy_hash
        try:
            ok = await asyncio.to_thread(self._hasher.verify, target, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False
        return ok and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than the current ones."""
        return self._hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """The verified claims of an access token."""

    user_id: uuid.UUID
    token_id: str
    expires_at: datetime


def create_access_token(user_id: uuid.UUID, key: str, ttl_seconds: int) -> str:
    """Sign an access token for a user."""
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
        "jti": uuid.uuid4().hex,
        "typ": ACCESS_TOKEN_TYPE,
    }
    return jwt.encode(claims, key, algorithm=JWT_ALGORITHM)


def decode_access_token(token: str, key: str) -> AccessClaims:
    """Verify an access token: signature, algorithm, expiry, issue time, claims and type.

    Raises:
        UnauthenticatedError: The token is not a valid, current access token.
    """
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[JWT_ALGORITHM],
            options={"require_exp": True, "require_iat": True, "require_sub": True},
        )
        issued_in_future = int(claims["iat"]) > datetime.now(UTC).timestamp() + CLOCK_LEEWAY
        if claims.get("typ") != ACCESS_TOKEN_TYPE or not claims.get("jti") or issued_in_future:
            raise UnauthenticatedError(INVALID_TOKEN)
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            token_id=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except (JWTError, ValueError, TypeError, KeyError, OverflowError, OSError) as error:
        # OverflowError/OSError: an `exp` beyond what a datetime holds (a signed 10**20)
        raise UnauthenticatedError(INVALID_TOKEN) from error


def new_refresh_token() -> str:
    """A new random refresh token (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """The SHA-256 hex digest under which a refresh token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()
