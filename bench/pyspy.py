"""Optional profiling of the server with py-spy (`--py-spy DIR`): record raw stacks, then
summarise them by package and by function."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.common import PROJECT_ROOT


def find_py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def start_py_spy(pid: int, output: Path, seconds: float) -> subprocess.Popen[bytes]:
    """Sample the server (CPU only, without pausing it) for `seconds` into a raw file."""
    return subprocess.Popen(
        [find_py_spy() or "py-spy", "record", "--pid", str(pid), "--rate", "200",
         "--format", "raw", "--nonblocking", "--output", str(output),
         "--duration", str(max(1, math.ceil(seconds)))],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _frame_key(frame: str) -> tuple[str, str]:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip(), ""
    file = match.group("file")
    stdlib = f"/lib/python{sys.version_info.major}.{sys.version_info.minor}/"
    for marker in ("site-packages/", stdlib, f"{PROJECT_ROOT}/"):
        if marker in file:
            file = file.split(marker, 1)[1]
    return match.group("func"), file


def _package(file: str) -> str:
    if file.startswith("app/"):
        return "app (" + file.split("/")[1].removesuffix(".py") + ")"
    head = file.split("/", 1)[0].removesuffix(".py")
    return head or "?"


def summarize_profile(path: Path, top: int = 20) -> str:
    """Self and inclusive samples per function, and self samples per package."""
    self_counts: Counter[tuple[str, str]] = Counter()
    incl_counts: Counter[tuple[str, str]] = Counter()
    package_counts: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_key(f) for f in stack.split(";")]
        frames = [f for f in frames if f[1]]  # drop "process ..." / "thread ..." pseudo-frames
        if not frames:
            continue
        total += count
        self_counts[frames[-1]] += count
        package_counts[_package(frames[-1][1])] += count
        for key in set(frames):
            incl_counts[key] += count
    if not total:
        return f"(no samples in {path})"

    def pct(n: int) -> str:
        return f"{100 * n / total:5.1f}%"

    out = [f"{total} samples (CPU only; idle event-loop waits are not sampled)"]
    out.append("self time by package:")
    out += [f"  {pct(n)}  {name}" for name, n in package_counts.most_common(15)]
    out.append(f"top {top} functions by self time:")
    out += [f"  {pct(n)}  {f} ({file})" for (f, file), n in self_counts.most_common(top)]
    out.append(f"top {top} functions by inclusive time (app and library code):")
    skip = {"run", "_run_once", "run_until_complete", "run_forever", "<module>", "_run_code",
            "_run_module_as_main", "main", "_cmd_serve", "serve", "_serve"}  # fmt: skip
    chosen = [(k, n) for k, n in incl_counts.most_common() if k[0] not in skip][:top]
    out += [f"  {pct(n)}  {f} ({file})" for (f, file), n in chosen]
    return "\n".join(out)
