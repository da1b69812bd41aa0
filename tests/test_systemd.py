"""The systemd unit: valid, sandboxed (exposure at most 2.0 by `systemd-analyze security`), and
the notify type the service speaks."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[1] / "systemd" / "dangan.service"
MAX_EXPOSURE = 2.0  # systemd's scale: 0 (locked down) .. 10 (exposed); below 2 is rated "OK"

analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")


def _unit_for_this_machine(tmp_path: Path) -> Path:
    # verify checks that ExecStart exists: point it at this venv's dangan instead of /opt/dangan.
    text = UNIT.read_text(encoding="utf-8").replace("/opt/dangan/bin", str(Path(sys.executable).parent))
    path = tmp_path / "dangan.service"
    path.write_text(text, encoding="utf-8")
    return path


@analyze
def test_unit_verifies(tmp_path):
    done = subprocess.run(["systemd-analyze", "verify", str(_unit_for_this_machine(tmp_path))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "dangan.service" not in done.stderr, done.stderr


@analyze
def test_unit_exposure_is_low(tmp_path):
    done = subprocess.run(["systemd-analyze", "security", "--offline=true", str(_unit_for_this_machine(tmp_path))],
                          capture_output=True, text=True, timeout=60)
    match = re.search(r"Overall exposure level for dangan\.service: ([\d.]+)", done.stdout)
    assert match, done.stdout + done.stderr
    assert float(match.group(1)) <= MAX_EXPOSURE, done.stdout


def test_unit_settings_the_service_relies_on():
    text = UNIT.read_text(encoding="utf-8")
    for line in ("Type=notify", "ProtectSystem=strict", "NoNewPrivileges=true", "PrivateTmp=true",
                 "CapabilityBoundingSet=\n", "UMask=0077", "User=dangan", "ExecReload=/bin/kill -HUP $MAINPID"):
        assert line in text, line
    assert re.search(r"^ReadWritePaths=\S+ \S+ \S+$", text, re.M)
    assert re.search(r"^Environment=PATH=/opt/dangan/bin:", text, re.M)
