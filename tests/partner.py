"""A real partner site on 127.0.0.1: `rclone serve sftp` or `rclone serve s3` over a tmp folder,
started on a random port and stopped by pid."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

RCLONE = str(Path(sys.executable).with_name("rclone"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def obscure(secret: str) -> str:
    return subprocess.run([RCLONE, "obscure", "-"], input=secret, capture_output=True, text=True,
                          check=True).stdout.strip()


@dataclass
class Partner:
    """The partner's storage folder, its server process, and the rclone.conf naming it."""

    storage: Path
    process: subprocess.Popen
    rclone_config: Path
    remote: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stderr is not None:
            self.process.stderr.close()  # read only when the server fails to start (_wait_port)

    def files(self) -> list[Path]:
        return [p for p in self.storage.rglob("*") if p.is_file()]


def _wait_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rclone serve exited: {process.stderr.read().decode(errors='replace')}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("rclone serve did not start")


def start_sftp(base: Path) -> Partner:
    storage = base / "partner-sftp"
    storage.mkdir()
    port = free_port()
    process = subprocess.Popen([RCLONE, "serve", "sftp", str(storage), "--addr", f"127.0.0.1:{port}",
                                "--user", "school", "--pass", "partner-secret", "--config", "/dev/null"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    _wait_port(port, process)
    conf = base / "rclone.conf"
    conf.write_text(f"[partner]\ntype = sftp\nhost = 127.0.0.1\nport = {port}\nuser = school\n"
                    f"pass = {obscure('partner-secret')}\nshell_type = unix\nmd5sum_command = md5sum\n"
                    f"sha1sum_command = sha1sum\n", encoding="utf-8")
    conf.chmod(0o600)
    return Partner(storage, process, conf, "partner:dangan")


def start_s3(base: Path) -> Partner:
    storage = base / "partner-s3"
    (storage / "school-bucket").mkdir(parents=True)
    port = free_port()
    process = subprocess.Popen([RCLONE, "serve", "s3", str(storage), "--addr", f"127.0.0.1:{port}",
                                "--auth-key", "SCHOOLKEY,SCHOOLSECRET", "--config", "/dev/null"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    _wait_port(port, process)
    conf = base / "rclone.conf"
    conf.write_text(f"[partner]\ntype = s3\nprovider = Rclone\nendpoint = http://127.0.0.1:{port}\n"
                    f"access_key_id = SCHOOLKEY\nsecret_access_key = SCHOOLSECRET\nforce_path_style = true\n",
                    encoding="utf-8")
    conf.chmod(0o600)
    return Partner(storage, process, conf, "partner:school-bucket/dangan")


def use_partner(archive, partner: Partner, **settings: object) -> None:
    """Point the archive's config at the partner (and optional offsite settings)."""
    text = archive.config.read_text(encoding="utf-8")
    lines = []
    for line in text.splitlines():
        if line.startswith("  remote:"):
            line = f'  remote: "{partner.remote}"'
        elif line.startswith("  rclone_config:"):
            line = f'  rclone_config: "{partner.rclone_config}"'
        for key, value in settings.items():
            if line.startswith(f"  {key}:"):
                line = f"  {key}: {value}"
        lines.append(line)
    archive.config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def no_rclone_left(marker: str) -> bool:
    """No rclone transfer still running that names ``marker`` (a folder of this test)."""
    out = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout
    return not [line for line in out.splitlines() if "rclone" in line and " copy " in line and marker in line]
