"""GraphQL types of accounts: User, Entitlements, AuthPayload and the auth inputs."""

import uuid
from datetime import datetime
from typing import Self

import strawberry

from src.api.auth.entitlements import EntitlementService
from src.api.auth.service import Session
from src.api.common.types import Node
from src.api.context import Info
from src.core.enums import UserType
from src.lib.db.models import User as UserModel


@strawberry.type(description="What the user may still do in the current rolling 24-hour window.")
class Entitlements:
    """A user's daily allowance."""

    max_messages_per_day: int
    messages_used_today: int
    messages_remaining: int
    available_models: list[strawberry.ID]


@strawberry.type
class User(Node):
    """A registered user or a guest."""

    id: strawberry.ID
    email: str | None = strawberry.field(description="Null for guests.")
    user_type: UserType
    created_at: datetime

    @classmethod
    def from_model(cls, user: UserModel) -> Self:
        """Build from the ORM row."""
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            user_type=user.user_type,
            created_at=user.created_at,
        )

    @strawberry.field
    async def entitlements(self, info: Info) -> Entitlements:
        """The daily message allowance of this user's type and what is left of it."""
        runtime = info.context.runtime
        allowance = await EntitlementService(runtime.session_factory, runtime.settings).for_user(
            uuid.UUID(self.id), self.user_type
        )
        return Entitlements(
            max_messages_per_day=allowance.max_messages_per_day,
            messages_used_today=allowance.messages_used_today,
            messages_remaining=allowance.messages_remaining,
            available_models=[strawberry.ID(m.id) for m in runtime.catalog.models()],
        )


@strawberry.type
class AuthPayload:
    """A signed-in session: a token pair and the user."""

    access_token: str
    refresh_token: str
    token_type: str = strawberry.field(description='Always "Bearer".')
    expires_in: int = strawberry.field(description="Access token lifetime in seconds.")
    user: User

    @classmethod
    def from_session(cls, session: Session) -> Self:
        """Build from the service's result."""
        return cls(
            access_token=session.access_token,
            refresh_token=session.refresh_token,
            token_type="Bearer",
            expires_in=session.expires_in,
            user=User.from_model(session.user),
        )


@strawberry.input
class RegisterInput:
    """Email and password of a new account."""

    email: str
    password: str


@strawberry.input
class LoginInput:
    """Credentials of an existing account."""

    email: str
    password: str
