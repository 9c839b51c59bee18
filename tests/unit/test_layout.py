"""The layout rules of docs/architecture.md that import-linter cannot see.

* ``api/`` holds no SQL: every statement lives in an adapter behind a port.
* ``api/`` has no module outside ``api/platform/`` and the context packages, and every context package
  is registered in ``api.platform.registry.CONTEXTS`` (one line per context).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from api.platform.registry import CONTEXTS

API = Path(__file__).resolve().parents[2] / "api"
SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)|"
                 r"ALTER\s+TABLE|TRUNCATE|WITH\s+\w+\s+AS\s*\()", re.IGNORECASE | re.DOTALL)
DRIVER_CALLS = {"fetch", "fetchrow", "fetchval", "execute", "executemany", "copy_records_to_table"}


def _sql_in(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            found.append(f"{path.relative_to(API.parent)}:{node.lineno}: {node.value.strip()[:60]!r}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DRIVER_CALLS \
                and node.args and isinstance(node.args[0], (ast.Constant, ast.JoinedStr, ast.BinOp)):
            found.append(f"{path.relative_to(API.parent)}:{node.lineno}: a statement sent from api/")
    return found


def test_no_sql_in_api() -> None:
    assert [hit for path in sorted(API.rglob("*.py")) for hit in _sql_in(path)] == []


def test_the_sql_finder_finds_sql() -> None:
    probe = API.parent / "tests" / "unit" / "_sql_probe.py"
    probe.write_text('Q = """SELECT id FROM users WHERE id = $1"""\nasync def f(c):\n    await c.execute("x")\n')
    try:
        hits = _sql_in(probe)
    finally:
        probe.unlink()
    assert len(hits) == 2


def test_api_holds_only_the_platform_and_context_packages() -> None:
    loose = sorted(p.name for p in API.iterdir() if p.suffix == ".py" and p.name != "__init__.py")
    assert loose == []
    packages = {p.name for p in API.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    registered = {c.name for c in CONTEXTS}
    assert packages == registered  # "platform" registers its probes and housekeeping like a context
    assert len(registered) == len(CONTEXTS)
