"""One namespace, dangan.*, over the project's folders; never a top-level daemon, backup, store …"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_namespace_imports(tmp_path):
    done = _python("import dangan, dangan.cli.main, dangan.backup, dangan.config.loader;"
                   "print(getattr(dangan, '__file__', None))", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"  # an implicit namespace package: no dangan/__init__.py


@pytest.mark.parametrize("name", ["daemon", "backup", "config", "store", "rules", "cli"])
def test_card_folders_are_not_top_level_imports(tmp_path, name):
    done = _python(f"import {name}", tmp_path)
    assert done.returncode != 0 and "ModuleNotFoundError" in done.stderr


def test_console_script_main_returns_int():
    from dangan.cli.main import main

    assert main(["--version"]) == 0
    assert main([]) == 2


def test_wheel_layout(tmp_path):
    """`pip install .` installs exactly this wheel: dangan/* inside, nothing at the top level."""
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    wheel = next(tmp_path.glob("dangan-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    code = [n for n in names if not n.startswith("dangan-")]
    assert ("dangan/cli/main.py" in code and "dangan/store/catalog/core.py" in code
            and "dangan/config/default.yaml" in code)
    assert "dangan/backup/__init__.py" in code
    assert {"dangan/backup/templates/report.html.j2", "dangan/backup/templates/report.css",
            "dangan/backup/templates/charts.svg.j2"} <= set(code)  # the report's templates ship
    # and the registers' (the report's scorecard section is a macro of theirs)
    assert {"dangan/registers/templates/scorecard.html.j2", "dangan/registers/templates/scorecard.css",
            "dangan/registers/templates/assessment.html.j2", "dangan/registers/templates/digest.html.j2",
            "dangan/registers/templates/registers.css"} <= set(code)
    assert "dangan/__init__.py" not in code
    assert all(n.startswith("dangan/") for n in code), code
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "dangan = dangan.cli.main:main" in entry_points
