"""What the database does for a repository call: its query plan, and the rows it read.

The statement is caught as the call sends it, then explained with the same parameters:
`EXPLAIN QUERY PLAN` on SQLite (the plan's shape: which index, which subquery), `EXPLAIN
(ANALYZE, FORMAT JSON)` on PostgreSQL (what each scan actually returned).
"""

import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Plan:
    """The plan of the last statement a call sent.

    Attributes:
        text: SQLite: the plan's lines; PostgreSQL: each node's type, relation and index.
        nodes: PostgreSQL: the plan's nodes, with what they actually returned; empty on
            SQLite, which does not say.
    """

    text: str
    nodes: list[dict[str, Any]]

    def rows(self, node_type: str | None = None, relation: str | None = None) -> int:
        """Rows the nodes of that type and/or relation returned, over all their loops."""
        return sum(
            node["Actual Rows"] * node["Actual Loops"]
            for node in self.nodes
            if node_type in (None, node["Node Type"])
            and relation in (None, node.get("Relation Name"))
        )


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


async def plan_of(db: AsyncSession, call: Callable[[], Awaitable[object]]) -> Plan:
    """Run `call`, then explain the last statement it sent, in the same session.

    On PostgreSQL sequential and bitmap scans are turned off for the explanation: on the few
    rows of a test the planner would rather read a whole table, or a chat's rows, and sort
    them; this way the plan shows whether an index can serve the statement, in its order.
    """
    sent: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        sent.append((args[2], args[3]))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        await call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    statement, parameters = sent[-1]
    connection = await db.connection()
    if engine.dialect.name == "sqlite":
        rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return Plan("\n".join(row.detail for row in rows), [])
    for scan in ("seqscan", "bitmapscan"):
        await connection.exec_driver_sql(f"SET LOCAL enable_{scan} = off")
    explained = await connection.exec_driver_sql(
        f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters
    )
    for scan in ("seqscan", "bitmapscan"):
        await connection.exec_driver_sql(f"RESET enable_{scan}")
    document = explained.scalar_one()
    root = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    nodes = list(_nodes(root))
    keys = ("Node Type", "Relation Name", "Index Name")
    text = "\n".join(" ".join(str(node.get(key, "")) for key in keys) for node in nodes)
    return Plan(text, nodes)
