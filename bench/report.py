"""``docs/performance.md`` is shared by several benches; each one owns a marked section of it.

``write_section("http", text)`` replaces what lies between ``<!-- bench:http -->`` and
``<!-- /bench:http -->`` (appending the block when absent) and leaves the rest of the document —
the hand-written method and other benches' sections — untouched.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


def write_section(name: str, markdown: str, path: Path = DOC) -> None:
    if not re.fullmatch(r"[a-z0-9_.-]+", name):
        raise ValueError(f"section name {name!r}: use lowercase letters, digits, '.', '_' or '-'")
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _pkg(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _wrk_version() -> str:
    try:
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False, timeout=5)
    except OSError:
        return "not installed"
    first = (out.stdout or out.stderr).splitlines()
    return first[0].split(" Copyright")[0] if first else "unknown"


def load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine(postgres: str, extra: dict[str, str] | None = None) -> str:
    """A markdown table describing where and when the numbers were taken."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    rows = {
        "Date (UTC)": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "CPU": f"{cpus} × {_cpu_model()} (nproc = {cpus})",
        "Memory": _memory(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": sys.version.split()[0],
        "PostgreSQL": postgres,
        "Packages": ", ".join(f"{p} {_pkg(p)}" for p in ("granian", "litestar", "uvicorn", "uvloop", "asyncpg",
                                                          "msgspec")),
        "Load generator": _wrk_version() + "; open-loop: bench/rate.py (asyncio)",
        **(extra or {}),
    }
    return "| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows.items())
