"""Application settings, read from the environment and `.env` by pydantic-settings.

Every setting is listed with its default and meaning in `.env.example`.
"""

import secrets
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    """Server settings; names match the environment variables case-insensitively."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        case_sensitive=False,
        extra="ignore",
        env_ignore_empty=True,  # an empty value (as in .env.example) means the default
    )

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path("data")
    database_url: str = ""
    database_echo: bool = False
    migrate_on_start: bool = True
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    graphiql: bool | None = None
    allowed_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    ws_init_timeout_seconds: float = Field(default=10, gt=0)

    jwt_secret: SecretStr | None = None
    access_token_ttl_seconds: int = Field(default=15 * 60, ge=30)
    refresh_token_ttl_days: int = Field(default=30, ge=1)

    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)

    guest_daily_messages: int = Field(default=20, ge=0)
    regular_daily_messages: int = Field(default=200, ge=0)
    login_attempts_per_window: int = Field(default=10, ge=1)
    login_window_seconds: float = Field(default=900, gt=0)
    signups_per_hour: int = Field(default=10, ge=1)
    guest_retention_days: int | None = Field(default=None, ge=1)
    max_concurrent_replies: int = Field(default=3, ge=1)
    max_starting_replies: int = Field(default=4, ge=1)
    max_thread_messages: int = Field(default=1_000, ge=1)

    openai_base_url: str = ""
    openai_api_key: SecretStr | None = None
    openai_models: list[str] = Field(default_factory=list)
    default_model: str = ""
    demo_model_enabled: bool = False
    demo_token_delay_seconds: float = Field(default=0.02, ge=0)
    llm_timeout_seconds: float = Field(default=60, gt=0)
    llm_max_retries: int = Field(default=2, ge=0)
    system_prompt: str = "You are a helpful assistant."
    history_budget_chars: int = Field(default=24_000, ge=100)
    max_agent_steps: int = Field(default=5, ge=1)
    tool_timeout_seconds: float = Field(default=5, gt=0)
    tool_approval_timeout_seconds: float = Field(default=600, gt=0)
    title_model: str = ""

    redis_url: str = ""
    flush_interval_seconds: float = Field(default=1.0, gt=0)
    shutdown_grace_seconds: float = Field(default=10, ge=0)
    generation_lock_ttl_seconds: float = Field(default=15, gt=1)
    stream_log_max_events: int = Field(default=10_000, ge=10)
    reply_save_deadline_seconds: float = Field(default=30, gt=0)
    workers: int = Field(default=1, ge=1)

    metrics_enabled: bool = True
    otel_exporter_otlp_endpoint: str = ""

    @model_validator(mode="after")
    def _check_production_secret(self) -> "Settings":
        if self.environment == "production":
            secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
            if len(secret.encode()) < MIN_SECRET_BYTES:
                raise ValueError(
                    f"JWT_SECRET of at least {MIN_SECRET_BYTES} bytes is required in production"
                )
        return self

    @model_validator(mode="after")
    def _check_workers_share_a_broker(self) -> "Settings":
        if self.workers > 1 and not self.redis_url:
            raise ValueError("WORKERS above 1 needs REDIS_URL: the processes share the broker")
        return self

    @property
    def graphiql_enabled(self) -> bool:
        """Serve GraphiQL: as set, else everywhere but in production."""
        return self.graphiql if self.graphiql is not None else self.environment != "production"

    @property
    def resolved_database_url(self) -> str:
        """The database URL; SQLite in the data folder when none is set."""
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'chat.db'}"

    @cached_property
    def jwt_key(self) -> str:
        """The JWT signing secret; in development one is generated once and kept on disk."""
        if self.jwt_secret is not None:
            secret = self.jwt_secret.get_secret_value()
            if len(secret.encode()) < MIN_SECRET_BYTES:
                raise ValueError(f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
            return secret
        path = self.data_dir / "jwt_secret"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(secret)
        return secret


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
