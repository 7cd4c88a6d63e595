"""Tool call states: every saved tool_call part gets a `state`.

Tool calls that wait for the owner's approval came with a state on each tool_call part
(AWAITING_APPROVAL, RUNNING, DONE, ERROR, DECLINED). The calls saved before needed no approval:
DONE when their result is not an error, ERROR when it is or when there is none (the reply
ended before the tool answered). Downgrade removes the states. Parts are JSON documents, so
the rows are rewritten in batches, in Python, the same way on SQLite and PostgreSQL.
Self-contained: the table and the rule are written here, not imported.

Revision ID: 7b3d9e1f5a24
Revises: 4f2a6c8e0b12
Create Date: 2026-12-01 19:30:00.000000
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from alembic import op

revision: str = "7b3d9e1f5a24"
down_revision: str | None = "4f2a6c8e0b12"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500

messages = sa.table(
    "messages",
    sa.column("id", sa.Uuid()),
    sa.column("parts", sa.JSON().with_variant(JSONB(), "postgresql")),
)

Part = dict[str, Any]


def _with_states(parts: list[Part]) -> list[Part]:
    errors = {p["tool_call_id"]: p["is_error"] for p in parts if p.get("type") == "tool_result"}
    return [
        part | {"state": "DONE" if errors.get(part["tool_call_id"]) is False else "ERROR"}
        if part.get("type") == "tool_call" and "state" not in part
        else part
        for part in parts
    ]


def _without_states(parts: list[Part]) -> list[Part]:
    return [
        {key: value for key, value in part.items() if key != "state"}
        if part.get("type") == "tool_call"
        else part
        for part in parts
    ]


def _rewrite(change: Callable[[list[Part]], list[Part]]) -> None:
    """Apply `change` to the parts of every message holding a tool call, a batch at a time."""
    bind = op.get_bind()
    with_calls = sa.cast(messages.c.parts, sa.Text).like('%"tool_call"%')
    update = (
        messages.update()
        .where(messages.c.id == sa.bindparam("message_id"))
        .values(parts=sa.bindparam("new_parts"))
    )
    last = None
    while True:
        query = sa.select(messages.c.id, messages.c.parts).where(with_calls)
        if last is not None:
            query = query.where(messages.c.id > last)
        rows = bind.execute(query.order_by(messages.c.id).limit(BATCH)).all()
        if not rows:
            return
        changed = [
            {"message_id": row.id, "new_parts": new}
            for row in rows
            if (new := change(row.parts)) != row.parts
        ]
        if changed:
            bind.execute(update, changed)
        last = rows[-1].id


def upgrade() -> None:
    """Give every saved tool call its state."""
    _rewrite(_with_states)


def downgrade() -> None:
    """Remove the states."""
    _rewrite(_without_states)
