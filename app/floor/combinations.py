"""Table combinations: which tables an admin lets one large party share (e.g. 11+12),
each with the seats the joined tables give. Explicit, not a "joinable" flag: only the
combinations defined here are offered (GET/POST /api/tables/combinations, DELETE
/api/tables/combinations/{id}).

A booking on a combination has one row per member table in `bookings` (the booking's
own row on the first table, one `combined_with` row on each of the others), so every
overlap check, lock and the exclusion constraint treat it as the tables it takes.
Deleting a combination leaves its bookings as they are: their rows hold the tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.statements import Conn, Query
from app.floor.exceptions import CombinationExists, CombinationNotFound, InvalidCombination
from app.floor.models import RestaurantTable, TableCombination, TableCombinationMember
from app.floor.schemas import CombinationCreate, CombinationOut


@dataclass(frozen=True, slots=True)
class Combination:
    id: int
    capacity: int
    table_ids: tuple[int, ...]  # by table number
    table_numbers: tuple[int, ...]

    def option(self) -> dict[str, Any]:
        """A CombinationOption as the dict the availability answer validates."""
        return {"id": self.id, "table_ids": list(self.table_ids),
                "table_numbers": list(self.table_numbers), "capacity": self.capacity}  # fmt: skip

    def out(self) -> CombinationOut:
        return CombinationOut.model_validate(self.option())


def best_fit(combination: Combination) -> tuple[int, int, int]:
    """Fewest seats first (the fewest wasted for any party it fits), then fewest tables."""
    return combination.capacity, len(combination.table_ids), combination.id


ALL = Query(
    select(
        TableCombination.id,
        TableCombination.capacity,
        RestaurantTable.id,
        RestaurantTable.table_number,
    )
    .join(TableCombinationMember, TableCombinationMember.combination_id == TableCombination.id)
    .join(RestaurantTable, RestaurantTable.id == TableCombinationMember.table_id)
    .order_by(TableCombination.id, RestaurantTable.table_number)
)


def _assemble(rows: Iterable[Any]) -> list[Combination]:
    found: dict[int, tuple[int, list[int], list[int]]] = {}
    for combination_id, capacity, table_id, number in rows:
        entry = found.setdefault(combination_id, (capacity, [], []))
        entry[1].append(table_id)
        entry[2].append(number)
    every = [
        Combination(cid, cap, tuple(ids), tuple(nums)) for cid, (cap, ids, nums) in found.items()
    ]
    return sorted(every, key=best_fit)


async def read_all(conn: Conn) -> list[Combination]:
    """Every combination, fewest seats first."""
    return _assemble(await conn.fetch(ALL, {}))


def fitting(combinations: Iterable[Combination], party_size: int) -> list[Combination]:
    return [c for c in combinations if c.capacity >= party_size]


async def find(conn: Conn, combination_id: int) -> Combination | None:
    return next((c for c in await read_all(conn) if c.id == combination_id), None)


async def list_combinations(session: AsyncSession) -> list[CombinationOut]:
    rows = (await session.execute(ALL.statement)).all()
    return [c.out() for c in _assemble(rows)]


async def create_combination(session: AsyncSession, data: CombinationCreate) -> CombinationOut:
    ids = sorted(set(data.table_ids))
    if len(ids) != len(data.table_ids):
        raise InvalidCombination("A table appears twice in the combination")
    tables = (
        await session.scalars(select(RestaurantTable).where(RestaurantTable.id.in_(ids)))
    ).all()
    missing = sorted(set(ids) - {t.id for t in tables})
    if missing:
        raise InvalidCombination(f"No table has id {', '.join(map(str, missing))}")
    largest = max(t.capacity for t in tables)
    if data.capacity <= largest:
        raise InvalidCombination(
            f"Joined, the tables must seat more than their largest alone ({largest}): "
            "a party that fits one table is given one"
        )
    key = ",".join(map(str, ids))
    if await session.scalar(select(TableCombination.id).where(TableCombination.members_key == key)):
        raise CombinationExists()
    combination = TableCombination(capacity=data.capacity, members_key=key)
    session.add(combination)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same tables, combined at the same moment
        raise CombinationExists() from exc
    await session.execute(
        insert(TableCombinationMember),
        [{"combination_id": combination.id, "table_id": table_id} for table_id in ids],
    )
    ordered = sorted(tables, key=lambda t: t.table_number)
    return CombinationOut(
        id=combination.id,
        table_ids=[t.id for t in ordered],
        table_numbers=[t.table_number for t in ordered],
        capacity=combination.capacity,
    )


async def delete_combination(session: AsyncSession, combination_id: int) -> None:
    """Bookings already made on it keep their tables."""
    result = await session.execute(
        delete(TableCombination).where(TableCombination.id == combination_id)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise CombinationNotFound()
