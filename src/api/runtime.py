"""The long-lived parts of the application, built once at start-up and shared by requests."""

from dataclasses import dataclass

from src.core.config import Settings
from src.core.security import PasswordHasher
from src.lib.db.session import SessionFactory
from src.lib.llm.catalog import ModelCatalog
from src.lib.llm.tools.registry import ToolRegistry
from src.lib.ratelimit import RateLimiter
from src.lib.streaming.broker import Broker
from src.lib.streaming.manager import GenerationManager
from src.lib.turns import Turns


@dataclass(frozen=True, slots=True)
class Runtime:
    """What every request can reach.

    Attributes:
        settings: The server's settings.
        session_factory: Opens database sessions (one per unit of work).
        hasher: Argon2id password hashing.
        catalog: The models that can write replies.
        tools: The tools a model may call.
        broker: Delivers reply events to subscribers (in memory, or Redis).
        generations: Runs this process's generations.
        limiter: Counts attempts for rate limits (in memory, or Redis).
        reply_starts: The reply starts this process runs at a time; the others wait their
            turn, so that a burst of starts does not hold up the replies already streaming.
    """

    settings: Settings
    session_factory: SessionFactory
    hasher: PasswordHasher
    catalog: ModelCatalog
    tools: ToolRegistry
    broker: Broker
    generations: GenerationManager
    limiter: RateLimiter
    reply_starts: Turns
