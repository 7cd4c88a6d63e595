"""Portable column types and id generation shared by every model.

- generate_uuid7: time-ordered UUIDv7 ids (RFC 9562), monotonic within this process.
- UTCDateTime: timezone-aware timestamps that come back aware (UTC) on SQLite too.
- JSONDocument: JSON, stored as JSONB on PostgreSQL.
"""

import os
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_RAND_BITS = 74
_lock = threading.Lock()
_last = (0, 0)


def generate_uuid7() -> uuid.UUID:
    """A new UUIDv7: 48 bits of Unix milliseconds, then 74 bits that grow within a millisecond."""
    global _last
    with _lock:
        millis = time.time_ns() // 1_000_000
        last_millis, last_rand = _last
        if millis > last_millis:
            rand = int.from_bytes(os.urandom(10)) >> (80 - _RAND_BITS)
        else:
            millis, rand = last_millis, last_rand + 1
        _last = (millis, rand)
    rand_a = (rand >> 62) & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return uuid.UUID(int=value)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp; naive values read back (SQLite) are taken as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store aware datetimes in UTC."""
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware datetimes in UTC."""
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


JSONDocument: Any = JSON().with_variant(JSONB(), "postgresql")
