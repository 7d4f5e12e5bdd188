"""Floor actions take every lock they need in one global order: no deadlock between two
actions on overlapping merged groups (PostgreSQL would break one with a 409 after
deadlock_timeout)."""

from __future__ import annotations

import asyncio

import pytest
from httpx import AsyncClient

ROUNDS = 10


async def _table_ids(client: AsyncClient, staff: dict[str, str], *numbers: int) -> list[int]:
    tables = (await client.get("/api/tables", headers=staff)).json()
    by_number = {t["table_number"]: t["id"] for t in tables}
    return [by_number[n] for n in numbers]


@pytest.mark.parametrize("release_first", [True, False])
async def test_releasing_a_group_while_it_grows_never_deadlocks(
    client: AsyncClient, staff: dict[str, str], release_first: bool
) -> None:
    """Tables 14 and 15 are merged; at once, one host releases 14 and another merges 15
    with 16. Whichever goes first, both succeed: 14, 15 and 16 end free and unmerged (the
    release came last) or 15 and 16 merged (the merge came last)."""
    t14, t15, t16 = await _table_ids(client, staff, 14, 15, 16)
    for _ in range(ROUNDS):
        merged = await client.post(f"/api/tables/merge-tables/{t14}/{t15}", headers=staff)
        assert merged.status_code == 200, merged.text
        release = client.post(f"/api/tables/{t14}/release?clean=true", headers=staff)
        merge = client.post(f"/api/tables/merge-tables/{t15}/{t16}", headers=staff)
        answers = await asyncio.gather(*((release, merge) if release_first else (merge, release)))
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        # Back to three free, unmerged tables for the next round.
        for table_id in (t14, t15, t16):
            table = (await client.get(f"/api/tables/{table_id}", headers=staff)).json()
            if table["merge_group"] is not None:
                freed = await client.post(f"/api/tables/{table_id}/release?clean=true",
                                          headers=staff)  # fmt: skip
                assert freed.status_code == 200, freed.text
