"""How hard the separate e-mail worker may work through a backlog.

`restaurant worker` runs beside the web server and PostgreSQL on the same cores (see
docker-compose.yml). A burst of bookings queues a burst of confirmations, and a worker
sending them flat out takes a core's worth of CPU from the requests that queued them.
Lowering its priority does not stop that, even as SCHED_IDLE: a priority only ranks a
process against the others of its own process group on the same core, and the worker,
on another core, takes time that the database backends the web server waits for could
have had (the bench runs that showed it are in docs/performance.md).

So the worker paces itself, as PostgreSQL's autovacuum does with its cost delay: while
the rest of the machine leaves less than a core idle, it rests after each batch long
enough to spend at most OUTBOX_CPU_SHARE of one core; with a core to spare it sends flat
out. The machine's load is read from /proc/stat (Linux); where that cannot be read the
worker never rests.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

# /proc/stat's first line: user nice system idle iowait irq softirq steal ... (USER_HZ)
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)


def machine_busy_seconds() -> float | None:
    """CPU seconds the machine's cores have spent busy (or taken by the hypervisor)."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        ticks = [int(first[1 + i]) for i in _BUSY_FIELDS]
    except (OSError, ValueError, IndexError):
        return None
    return sum(ticks) / os.sysconf("SC_CLK_TCK")


class CpuPacer:
    """Tells the dispatcher how long to rest after each batch.

    Call `started()` before a batch and `rest()` after it. The machine's load is judged
    over windows of at least `window` seconds (batches, rests and idle waits together),
    leaving out this process's own CPU time.
    """

    def __init__(
        self,
        share: float,
        *,
        cores: int | None = None,
        machine_busy: Callable[[], float | None] = machine_busy_seconds,
        own_cpu: Callable[[], float] = time.process_time,
        clock: Callable[[], float] = time.monotonic,
        window: float = 0.25,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError("share must be in (0, 1]")
        self.share = share
        self.cores = cores or os.cpu_count() or 1
        self.machine_busy = machine_busy
        self.own_cpu = own_cpu
        self.clock = clock
        self.window = window
        self.crowded = False
        self._mark: tuple[float, float, float] | None = None
        self._batch_cpu = 0.0

    def _reading(self) -> tuple[float, float, float] | None:
        busy = self.machine_busy()
        return None if busy is None else (self.clock(), busy, self.own_cpu())

    def started(self) -> None:
        """A batch begins."""
        self._batch_cpu = self.own_cpu()
        if self._mark is None:
            self._mark = self._reading()

    def rest(self) -> float:
        """Seconds to rest after the batch that `started()` began (0: go straight on)."""
        used = self.own_cpu() - self._batch_cpu
        if self.share >= 1 or self._mark is None:
            return 0.0
        now = self._reading()
        if now is None:
            return 0.0
        elapsed = now[0] - self._mark[0]
        if elapsed >= self.window:
            others = ((now[1] - self._mark[1]) - (now[2] - self._mark[2])) / elapsed
            # Crowded: the others leave less than a core idle (half the cores on a
            # machine of one, so that a lone core is not always crowded).
            self.crowded = self.cores - others < min(1.0, self.cores / 2)
            self._mark = now
        if not self.crowded or used <= 0:
            return 0.0
        return used * (1 / self.share - 1)
