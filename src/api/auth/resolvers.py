"""Account operations.

Queries:
- me: the signed-in user.

Mutations:
- register: new account; with a guest's token, upgrades that guest in place.
- login: email and password.
- loginAsGuest: a new guest account.
- refreshToken: rotate a refresh token.
- logout: revoke a refresh token.
"""

import strawberry

from src.api.auth.service import AuthService
from src.api.auth.types import AuthPayload, LoginInput, RegisterInput, User
from src.api.context import Info
from src.core.exceptions import UnauthenticatedError


@strawberry.type
class AuthQuery:
    """Account queries."""

    @strawberry.field
    async def me(self, info: Info) -> User:
        """The signed-in user."""
        return User.from_model(await info.context.require_user())


@strawberry.type
class AuthMutation:
    """Account mutations."""

    @strawberry.mutation(description="Called with a guest's token, upgrades that guest in place.")
    async def register(self, info: Info, input: RegisterInput) -> AuthPayload:
        """Create an account, or upgrade the calling guest."""
        try:
            caller = await info.context.current_user()
        except UnauthenticatedError:
            caller = None
        session = await AuthService(info.context.runtime).register(
            input.email, input.password, info.context.client, caller.id if caller else None
        )
        return AuthPayload.from_session(session)

    @strawberry.mutation
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:
        """Sign in with email and password."""
        service = AuthService(info.context.runtime)
        session = await service.login(input.email, input.password, info.context.client)
        return AuthPayload.from_session(session)

    @strawberry.mutation
    async def login_as_guest(self, info: Info) -> AuthPayload:
        """Start as a guest; upgrade later with `register`."""
        session = await AuthService(info.context.runtime).login_as_guest(info.context.client)
        return AuthPayload.from_session(session)

    @strawberry.mutation(
        description="Rotates: the old refresh token stops working; "
        "reusing it revokes the whole token family."
    )
    async def refresh_token(self, info: Info, refresh_token: str) -> AuthPayload:
        """Exchange a refresh token for a new pair."""
        session = await AuthService(info.context.runtime).refresh(refresh_token)
        return AuthPayload.from_session(session)

    @strawberry.mutation
    async def logout(self, info: Info, refresh_token: str) -> bool:
        """Revoke a refresh token; true when it was live."""
        return await AuthService(info.context.runtime).logout(refresh_token)
