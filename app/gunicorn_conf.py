"""gunicorn's settings for `make prod` and the Docker image (`-c python:app.gunicorn_conf`):
with PROMETHEUS_MULTIPROC_DIR set, every worker process writes its metrics there and
/metrics adds them up; the directory is emptied when gunicorn starts (a previous run's
counts must not carry over), and a worker that exits is marked dead (its live gauges
leave the sums)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

worker_class = "app.gunicorn_worker.Worker"


def on_starting(_server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(_server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
