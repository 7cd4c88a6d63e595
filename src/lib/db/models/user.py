"""User accounts: registered (email and Argon2id hash) or guests (neither)."""

from sqlalchemy import Boolean, Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from src.core.enums import UserType
from src.lib.db.base import Base, IdMixin, TimestampMixin


class User(IdMixin, TimestampMixin, Base):
    """A person using the server.

    Attributes:
        id: UUIDv7 identifier.
        email: Trimmed, lower-cased address; unique; null for guests.
        password_hash: Argon2id hash; null for guests.
        user_type: REGULAR or GUEST.
        is_active: A deactivated user's tokens stop working at once.
    """

    __tablename__ = "users"

    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    user_type: Mapped[UserType] = mapped_column(Enum(UserType, native_enum=False, length=16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<User id={self.id} type={self.user_type}>"
