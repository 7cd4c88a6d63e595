"""RefreshTokenRepository: storing hashes, single-use claims, and revoking a family."""

import asyncio
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from src.lib.db.models import RefreshToken, User
from src.lib.db.repositories.refresh_token import RefreshTokenRepository
from src.lib.db.session import SessionFactory
from tests.lib.db.factories import at, make_user, new_id, reload

NOW = at(0)
LATER = at(3600)


async def _token(
    db: AsyncSession,
    user: User,
    token_hash: str,
    family_id: uuid.UUID | None = None,
    expires_at: datetime = LATER,
) -> RefreshToken:
    family = family_id if family_id is not None else new_id()
    return await RefreshTokenRepository.add(db, user.id, token_hash, family, expires_at)


async def _claim_in_own_session(factory: SessionFactory, token_hash: str) -> RefreshToken | None:
    async with factory.begin() as db:
        return await RefreshTokenRepository.claim(db, token_hash, NOW)


async def test_add_stores_a_live_token(db: AsyncSession) -> None:
    ada = await make_user(db)
    family = new_id()

    token = await RefreshTokenRepository.add(db, ada.id, "a" * 64, family, LATER)

    assert await RefreshTokenRepository.get_by_hash(db, "a" * 64) is token
    stored = await reload(db, token)
    assert (stored.user_id, stored.family_id, stored.expires_at, stored.revoked_at) == (
        ada.id,
        family,
        LATER,
        None,
    )
    assert token.id is not None and token.created_at is not None


async def test_claim_revokes_a_live_token_and_returns_it(db: AsyncSession) -> None:
    ada = await make_user(db)
    token = await _token(db, ada, "live")

    claimed = await RefreshTokenRepository.claim(db, "live", NOW)

    assert claimed is not None
    assert (claimed.id, claimed.user_id, claimed.revoked_at) == (token.id, ada.id, NOW)
    assert (await reload(db, token)).revoked_at == NOW


async def test_a_token_can_be_claimed_only_once(db: AsyncSession) -> None:
    await _token(db, await make_user(db), "live")

    assert await RefreshTokenRepository.claim(db, "live", NOW) is not None
    assert await RefreshTokenRepository.claim(db, "live", at(1)) is None
    stored = await RefreshTokenRepository.get_by_hash(db, "live")
    assert stored is not None and stored.revoked_at == NOW


async def test_two_concurrent_claims_of_one_token_have_one_winner(
    session_factory: SessionFactory,
) -> None:
    async with session_factory.begin() as db:
        await _token(db, await make_user(db), "contested")

    results = await asyncio.gather(
        _claim_in_own_session(session_factory, "contested"),
        _claim_in_own_session(session_factory, "contested"),
    )

    assert sorted(result is None for result in results) == [False, True]
    assert await _claim_in_own_session(session_factory, "contested") is None


async def test_claim_refuses_an_expired_token_and_leaves_it_unrevoked(db: AsyncSession) -> None:
    token = await _token(db, await make_user(db), "expired", expires_at=at(-1))

    assert await RefreshTokenRepository.claim(db, "expired", NOW) is None
    assert (await reload(db, token)).revoked_at is None


async def test_claim_refuses_an_unknown_token(db: AsyncSession) -> None:
    await _token(db, await make_user(db), "live")

    assert await RefreshTokenRepository.claim(db, "unknown", NOW) is None


async def test_get_by_hash_returns_revoked_tokens_too(db: AsyncSession) -> None:
    token = await _token(db, await make_user(db), "live")
    await RefreshTokenRepository.claim(db, "live", NOW)

    stored = await RefreshTokenRepository.get_by_hash(db, "live")

    assert stored is not None and stored.id == token.id and stored.revoked_at == NOW
    assert await RefreshTokenRepository.get_by_hash(db, "unknown") is None


async def test_revoke_family_revokes_its_live_tokens_only(db: AsyncSession) -> None:
    ada = await make_user(db)
    family, other_family = new_id(), new_id()
    rotated = await _token(db, ada, "rotated", family)
    await RefreshTokenRepository.claim(db, "rotated", at(-10))
    successor = await _token(db, ada, "successor", family)
    sibling = await _token(db, ada, "sibling", family)
    unrelated = await _token(db, ada, "unrelated", other_family)

    await RefreshTokenRepository.revoke_family(db, family, NOW)

    assert (await reload(db, rotated)).revoked_at == at(-10)
    assert (await reload(db, successor)).revoked_at == NOW
    assert (await reload(db, sibling)).revoked_at == NOW
    assert (await reload(db, unrelated)).revoked_at is None
    assert await RefreshTokenRepository.claim(db, "successor", NOW) is None
    assert await RefreshTokenRepository.claim(db, "unrelated", NOW) is not None
