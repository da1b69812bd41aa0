"""The layout is the architecture: imports point one way and only the catalog layer speaks SQL.

    config  ←  store  ←  rules  ←  registers  ←  daemon, backup  ←  cli

(``daemon`` and ``backup`` never import each other.) Read from the source with ``ast``, so an import
inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("config", "store", "rules", "registers", "daemon", "backup", "cli")
# what each package may import of dangan (besides itself)
ALLOWED = {
    "config": set(),
    "store": {"config"},
    "rules": {"config", "store"},
    "registers": {"config", "store", "rules"},
    "daemon": {"config", "store", "rules", "registers"},
    "backup": {"config", "store", "rules", "registers"},
    "cli": {"config", "store", "rules", "registers", "daemon", "backup"},
}


def _modules():
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            yield package, path


def _imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            pytest.fail(f"{path.relative_to(REPO)}: relative import (write dangan.<package>.<module>)")
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "dangan" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_every_package_is_checked():
    assert {p.name for p in REPO.iterdir() if (p / "__init__.py").is_file()} == set(PACKAGES)


@pytest.mark.parametrize("package,path", list(_modules()), ids=lambda v: str(v).rsplit("/", 2)[-1])
def test_imports_point_one_way(package, path):
    wrong = _imported_packages(path) - ALLOWED[package] - {package}
    assert not wrong, f"{path.relative_to(REPO)} imports dangan.{', dangan.'.join(sorted(wrong))}"


SQL_CALLS = {"execute", "executemany", "executescript"}
CATALOG_LAYER = REPO / "store" / "catalog"
OUTSIDE = sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py")
                 if not p.is_relative_to(CATALOG_LAYER))


def _speaks_sql(path: Path) -> list[str]:
    """Where a module executes SQL itself: calls to ``.execute``/``.executemany``/``.executescript``,
    an import of ``sqlite3``, or a hand on a catalog's raw connection (``catalog.db``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
            found.append(f"line {node.lineno}: .{node.func.attr}(")
        elif isinstance(node, ast.Import) and any(a.name.split(".")[0] == "sqlite3" for a in node.names):
            found.append(f"line {node.lineno}: import sqlite3")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlite3":
            found.append(f"line {node.lineno}: from sqlite3 import")
        elif isinstance(node, ast.Attribute) and node.attr == "db" and "catalog" in ast.unparse(node.value).lower():
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_the_catalog_layer_is_where_sql_lives():
    assert _speaks_sql(CATALOG_LAYER / "core.py"), "the check finds nothing: it cannot fail"


@pytest.mark.parametrize("path", OUTSIDE, ids=lambda p: str(p.relative_to(REPO)))
def test_only_the_catalog_layer_executes_sql(path):
    """Every module outside store/catalog/ reads and writes the catalog through its typed methods only."""
    found = _speaks_sql(path)
    assert not found, (f"{path.relative_to(REPO)} executes SQL (move it into store/catalog/ behind a typed"
                       f" method): {'; '.join(found)}")
