"""The command line as a contract: the version written once (pyproject), one module per command family."""

from __future__ import annotations

import tomllib
from pathlib import Path

from dangan.cli.main import main

REPO = Path(__file__).resolve().parents[1]


def test_version_is_the_one_in_pyproject(capsys):
    declared = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"dangan {declared}"
    assert not any(f'"{declared}"' in p.read_text(encoding="utf-8") for p in (REPO / "cli").glob("*.py"))


def test_every_command_keeps_its_handler(capsys):
    for command in ("init", "check", "rules", "backup", "restore", "audit", "report", "drill", "run",
                    "mirror", "status"):
        assert main([command, "--help"]) == 0, command
        assert f"dangan {command}" in capsys.readouterr().out
