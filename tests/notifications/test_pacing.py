"""The e-mail worker's pacing (app/notifications/pacing.py): it rests between batches only
while the machine is busy."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.notifications.pacing import CpuPacer, machine_busy_seconds
from tests.conftest import TestDatabase, UserFactory
from tests.notifications.helpers import Clock, SmtpServer, book_times, dispatcher


class Machine:
    """A machine whose clock, busy CPU seconds and own CPU seconds a test advances."""

    def __init__(self) -> None:
        self.now = 0.0
        self.busy = 0.0
        self.own = 0.0

    def run(self, seconds: float, *, others: float, own: float) -> None:
        """`seconds` pass; the other processes keep `others` cores busy, this one `own`
        CPU seconds."""
        self.now += seconds
        self.own += own
        self.busy += others * seconds + own

    def pacer(self, share: float, cores: int = 2, **kw: Any) -> CpuPacer:
        return CpuPacer(
            share,
            cores=cores,
            machine_busy=lambda: self.busy,
            own_cpu=lambda: self.own,
            clock=lambda: self.now,
            **kw,
        )


def batch(machine: Machine, pacer: CpuPacer, *, others: float, cpu: float = 0.01) -> float:
    pacer.started()
    machine.run(0.3, others=others, own=cpu)
    return pacer.rest()


def test_rests_to_keep_its_share_while_the_others_leave_less_than_a_core() -> None:
    machine = Machine()
    pacer = machine.pacer(0.1)
    # The web server and the database keep 1.8 of 2 cores busy: 10 ms of sending buys
    # 90 ms of rest, a tenth of a core.
    assert batch(machine, pacer, others=1.8) == pytest.approx(0.09)
    assert batch(machine, pacer, others=1.5, cpu=0.02) == pytest.approx(0.18)


def test_sends_flat_out_with_a_core_to_spare() -> None:
    machine = Machine()
    pacer = machine.pacer(0.1)
    assert batch(machine, pacer, others=0.2) == 0
    assert batch(machine, pacer, others=0.9) == 0
    # The burst starts, then ends: the worker holds back, then catches up flat out.
    assert batch(machine, pacer, others=1.9) > 0
    assert batch(machine, pacer, others=0.1) == 0


def test_its_own_cpu_does_not_count_as_the_machine_being_busy() -> None:
    machine = Machine()
    pacer = machine.pacer(0.1)
    # Sending flat out (a whole core) on an otherwise idle machine of two.
    assert batch(machine, pacer, others=0.1, cpu=0.3) == 0


def test_judges_the_load_over_a_window_not_a_single_short_batch() -> None:
    machine = Machine()
    pacer = machine.pacer(0.1, window=1.0)
    assert batch(machine, pacer, others=1.9) == 0  # 0.3 s seen: not judged yet
    assert batch(machine, pacer, others=1.9) == 0
    assert batch(machine, pacer, others=1.9) == 0
    assert batch(machine, pacer, others=1.9) == pytest.approx(0.09)  # 1.2 s seen


def test_a_lone_core_is_crowded_only_when_the_others_take_half_of_it() -> None:
    machine = Machine()
    pacer = machine.pacer(0.25, cores=1)
    assert batch(machine, pacer, others=0.2) == 0
    assert batch(machine, pacer, others=0.8) == pytest.approx(0.03)


def test_never_rests_at_a_full_share_or_where_the_load_cannot_be_read() -> None:
    machine = Machine()
    assert batch(machine, machine.pacer(1.0), others=1.9) == 0
    blind = CpuPacer(0.1, cores=2, machine_busy=lambda: None)
    blind.started()
    assert blind.rest() == 0


@pytest.mark.parametrize("share", [0, -0.1, 1.5])
def test_a_share_outside_zero_to_one_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match="share"):
        CpuPacer(share)


@pytest.mark.skipif(sys.platform != "linux", reason="/proc/stat is Linux's")
def test_reads_the_machines_busy_time_on_linux() -> None:
    first = machine_busy_seconds()
    assert first is not None and first > 0
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    second = machine_busy_seconds()
    assert second is not None and second >= first + 0.03


# -- In the worker, against a real SMTP server ---------------------------------------------


class RecordingPacer(CpuPacer):
    def __init__(self, share: float, others: float) -> None:
        # The machine's other processes keep `others` of 2 cores busy; this process's
        # own CPU time and the clock are real.
        start = time.monotonic()
        super().__init__(
            share,
            cores=2,
            machine_busy=lambda: (time.monotonic() - start) * others + time.process_time(),
            window=0.0,
        )
        self.rests: list[float] = []

    def rest(self) -> float:
        self.rests.append(super().rest())
        return self.rests[-1]


@pytest.mark.parametrize("others", [1.9, 0.2])
async def test_the_worker_rests_between_batches_only_while_the_machine_is_busy(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
    others: float,
) -> None:
    await book_times(client, make_user, "12:00", "12:30", "13:00", "13:30", "14:00", "18:00")
    pacer = RecordingPacer(0.25, others)
    worker = dispatcher(db, settings, clock, batch_size=2, pacer=pacer)
    stop = asyncio.Event()
    started = time.monotonic()
    running = asyncio.create_task(worker.run(stop))
    for _ in range(1500):  # at most 30 s
        if len(smtp.inbox.messages) == 6:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await running
    assert len(smtp.inbox.messages) == 6
    assert len(pacer.rests) == 3  # after each batch of two
    if others > 1:  # busy: 3 times each batch's own CPU time at a share of 1/4
        assert all(rest > 0 for rest in pacer.rests)
        assert time.monotonic() - started >= sum(pacer.rests[:2])
    else:
        assert pacer.rests == [0, 0, 0]
