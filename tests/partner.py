"""A real partner site on 127.0.0.1: `rclone serve sftp` or `rclone serve s3` over a tmp folder,
started on a random port and stopped by pid."""

from __future__ import annotations

import json
import os
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
        stop_server(self.process)

    def files(self) -> list[Path]:
        return [p for p in self.storage.rglob("*") if p.is_file()]


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    if process.stderr is not None:
        process.stderr.close()  # read only when the server fails to start (_wait_port)


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


@dataclass
class District:
    """A district's object store on 127.0.0.1: one bucket, one prefix per school, one access key per
    school that sees only its prefix (the server's auth proxy), and the district's own key that sees
    the whole bucket. ``log`` is the server's debug log: one line per S3 request it served."""

    storage: Path
    bucket: str
    process: subprocess.Popen
    log: Path
    port: int
    schools: dict[str, Partner]

    def stop(self) -> None:
        stop_server(self.process)

    def prefix(self, school: str) -> Path:
        return self.storage / self.bucket / school

    def files(self, school: str) -> list[Path]:
        return [p for p in self.prefix(school).rglob("*") if p.is_file()]

    def operations(self) -> list[tuple[str, str]]:
        """The S3 requests served so far, in the server's log words: ``("GET OBJECT", "east/…")``,
        ``("LIST BUCKET", <the listed prefix>)``, ``("CREATE BUCKET", "")`` …"""
        served: list[tuple[str, str]] = []
        for line in self.log.read_text(errors="replace").splitlines():
            words = line.partition("serve s3: ")[2].replace(":", " ").split()
            if len(words) >= 2 and words[0].isupper() and words[1].isupper():
                served.append((f"{words[0]} {words[1]}", words[-1] if words[-1] != self.bucket else ""))
            elif words[:1] == ["bucketname"] and served and served[-1][0] == "LIST BUCKET":
                # the line after LIST BUCKET: bucketname: B prefix: prefix:"P" page: {…}
                served[-1] = ("LIST BUCKET", line.partition('prefix:"')[2].partition('"')[0])
        return served

    def remote_env(self, name: str, key: str, secret: str) -> dict[str, str]:
        """An rclone remote ``name`` on this server with the given credentials, as environment variables."""
        prefix = f"RCLONE_CONFIG_{name.upper()}_"
        settings = {"TYPE": "s3", "PROVIDER": "Rclone", "ENDPOINT": f"http://127.0.0.1:{self.port}",
                    "ACCESS_KEY_ID": key, "SECRET_ACCESS_KEY": secret, "FORCE_PATH_STYLE": "true"}
        return {prefix + k: v for k, v in settings.items()}


DISTRICT_ADMIN = ("DISTRICTADMIN", "district-admin-secret")


def start_district(base: Path, schools: list[str], bucket: str = "district") -> District:
    """Start ``rclone serve s3`` with one bucket and a jailed access key per school (see
    tests/district_accounts.py); each school gets its own rclone.conf naming only its key."""
    storage = base / "district-s3"
    accounts: dict[str, dict] = {DISTRICT_ADMIN[0]: {"secret": DISTRICT_ADMIN[1],
                                                     "backend": {"type": "local", "_root": str(storage)}}}
    for school in schools:
        (storage / bucket / school).mkdir(parents=True)
        # the key's whole world: a bucket named like the district's holding only this school's prefix
        inner = f":combine,upstreams='{school}={storage / bucket / school}':"
        accounts[f"{school.upper()}KEY"] = {"secret": f"{school}-secret",
                                           "backend": {"type": "combine", "upstreams": f"{bucket}={inner}",
                                                       "_root": ""}}
    port = free_port()
    log = base / "district-s3.log"
    proxy = f"{sys.executable} {Path(__file__).with_name('district_accounts.py')}"
    process = subprocess.Popen([RCLONE, "serve", "s3", "--addr", f"127.0.0.1:{port}", "--auth-proxy", proxy,
                                "--config", "/dev/null", "-vv", "--log-file", str(log)],
                               env={**os.environ, "DISTRICT_ACCOUNTS": json.dumps(accounts)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    _wait_port(port, process)
    partners = {}
    for school in schools:
        conf = base / f"rclone-{school}.conf"
        conf.write_text(f"[district]\ntype = s3\nprovider = Rclone\nendpoint = http://127.0.0.1:{port}\n"
                        f"access_key_id = {school.upper()}KEY\nsecret_access_key = {school}-secret\n"
                        # a school's key may not create buckets (the district made it): do not try
                        f"force_path_style = true\nno_check_bucket = true\n", encoding="utf-8")
        conf.chmod(0o600)
        partners[school] = Partner(storage / bucket / school, process, conf, f"district:{bucket}/{school}")
    return District(storage, bucket, process, log, port, partners)
