"""Reading query plans: EXPLAIN (ANALYZE, BUFFERS) of a statement, its prepared 6th run and
forced generic plan, and auto_explain notices, as PlanInfo."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'::timestamptz"
    return "'" + str(value).replace("'", "''") + "'"


def _walk(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _walk(child)


async def explain_analyze(conn: Any, sql: str, params: Any) -> tuple[str, dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS) as text (to print) and as JSON (to count), warm cache."""
    await conn.exec_driver_sql(sql, params)  # warm the cache: count buffers, not disk reads
    text_rows = await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
    plan_text = "\n".join(row[0] for row in text_rows)
    raw = (
        await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
    ).scalar()
    data = raw if isinstance(raw, list) else json.loads(raw)
    return plan_text, data[0]


def _plan_nodes(plan: dict[str, Any]) -> str:
    parts = []
    for node in _walk(plan):
        kind = node["Node Type"]
        if "Index Name" in node:
            parts.append(f"{kind} using {node['Index Name']}")
        elif kind in ("Seq Scan", "Bitmap Heap Scan"):
            parts.append(f"{kind} on {node.get('Relation Name', '?')}")
    return "; ".join(dict.fromkeys(parts)) or plan["Node Type"]


@dataclass
class PlanInfo:
    nodes: str
    rows: int
    hit: int
    read: int
    ms: float
    text: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any], text: str = "") -> PlanInfo:
        plan = data["Plan"]
        return cls(
            nodes=_plan_nodes(plan),
            rows=int(plan.get("Actual Rows", 0)),
            hit=int(plan.get("Shared Hit Blocks", 0)),
            read=int(plan.get("Shared Read Blocks", 0)),
            ms=float(data.get("Execution Time", 0.0)),
            text=text,
        )

    @property
    def buffers(self) -> str:
        return f"{self.hit + self.read} ({self.hit} hit, {self.read} read)"


async def prepared_plans(conn: Any, sql: str, params: Sequence[Any]) -> tuple[PlanInfo, PlanInfo]:
    """asyncpg prepares every statement and the app reuses it, so after five executions
    PostgreSQL may switch to a generic plan (plan_cache_mode = auto). Returns the plan of the
    sixth execution under auto, and the forced generic plan."""
    from sqlalchemy import text

    args = "(" + ", ".join(_literal(p) for p in params) + ")"
    plans = []
    for mode in ("auto", "force_generic_plan"):
        await conn.execute(text(f"SET plan_cache_mode = {mode}"))
        await conn.exec_driver_sql("PREPARE bench_prepared AS " + sql)
        try:
            if mode == "auto":
                for _ in range(5):
                    await conn.exec_driver_sql("EXECUTE bench_prepared" + args)
            explain = "EXPLAIN (ANALYZE, BUFFERS{}) EXECUTE bench_prepared" + args
            rows = await conn.exec_driver_sql(explain.format(""))
            plan_text = "\n".join(row[0] for row in rows)
            raw = (await conn.exec_driver_sql(explain.format(", FORMAT JSON"))).scalar()
        finally:
            await conn.exec_driver_sql("DEALLOCATE bench_prepared")
            await conn.execute(text("RESET plan_cache_mode"))
        plans.append(PlanInfo.from_json((raw if isinstance(raw, list) else json.loads(raw))[0],
                                        plan_text))  # fmt: skip
    return plans[0], plans[1]


def auto_explained(message: str) -> tuple[str, PlanInfo] | None:
    """(query text, plan) of one auto_explain notice in JSON format."""
    head, sep, body = message.partition("plan:")
    if not sep:
        return None
    data = json.loads(body)
    ms = float(re.search(r"duration: ([0-9.]+) ms", head).group(1))  # type: ignore[union-attr]
    info = PlanInfo.from_json({"Plan": data["Plan"], "Execution Time": ms})
    info.text = json.dumps(data["Plan"], indent=1)
    return data.get("Query Text", ""), info
