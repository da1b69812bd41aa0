"""Shared fixtures: a real archive made by `dangan init` in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from makers import Archive

from dangan.cli.main import main


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    base = tmp_path
    config = base / "etc" / "config.yaml"
    a = Archive(base, config, base / "archive", base / "mirror", base / "state")
    code = main(["init", "--config", str(config), "--archive-root", str(a.root), "--mirror-root", str(a.mirror),
                 "--state-dir", str(a.state)])
    assert code == 0
    return a


