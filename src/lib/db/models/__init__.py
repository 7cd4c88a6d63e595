"""All models, imported here so that `Base.metadata` knows every table."""

from src.lib.db.models.chat import Chat
from src.lib.db.models.feedback import MessageFeedback
from src.lib.db.models.message import Message
from src.lib.db.models.refresh_token import RefreshToken
from src.lib.db.models.usage import UsageRecord
from src.lib.db.models.user import User

__all__ = ["Chat", "Message", "MessageFeedback", "RefreshToken", "UsageRecord", "User"]
