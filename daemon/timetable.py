"""Periodic jobs inside `dangan run`: the off-site copy, the weekly audit and the monthly drill.

The ``schedule`` library raises the triggers; what it does not do is done here (see the library
facts in shared/reference): last-run times are persisted in the catalog, so a restarted or
sleeping service catches up exactly once; a failing job is retried with back-off instead of being
fired again every tick; times are in the configured time zone. Each job runs as a child `dangan`
process, so a long transfer never stalls the mirror, and it stops cleanly with the service.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import schedule
from loguru import logger

from dangan.config import words
from dangan.config.messages import t
from dangan.config.schema import Config

from dangan.daemon.alerts import Alerts
from dangan.store.catalog import Catalog, now
from dangan.store.progress import QUIET
from dangan.store.status import job_title

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
RETRY_FIRST = 300.0  # seconds; doubles per failure
RETRY_MAX = 6 * 3600.0


@dataclass
class Job:
    """One periodic job: when it is due, and the dangan command line that does it."""

    name: str
    at: str  # HH:MM in the configured time zone, daily
    argv: Callable[[], list[str]]  # decided at start time (e.g. incremental, full or snapshot)
    every_days: int = 1  # due on the first daily trigger this many days after the last success
    weekday: str = ""  # a weekly job: monday … sunday
    process: subprocess.Popen | None = None
    wanted: bool = False
    retry_at: float = 0.0
    failures: int = 0
    started: float = 0.0
    args: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The job as people call it (the log says 异地备份, not offsite)."""
        return job_title(self.name)


class Timetable:
    """The service's periodic jobs."""

    def __init__(self, config: Config, config_path: Path, catalog: Catalog, alerts: Alerts,
                 enabled: bool = True) -> None:
        self.config = config
        self.config_path = config_path
        self.catalog = catalog
        self.alerts = alerts
        self.scheduler = schedule.Scheduler()
        self.jobs: dict[str, Job] = {}
        if not enabled:  # a one-off command (dangan mirror) runs no periodic jobs
            return
        if config.offsite.remote:
            self.add(Job("offsite", config.offsite.daily_at, self._offsite_argv))
        self.add(Job("drill", config.drill.at, lambda: ["drill"], every_days=config.drill.every_days))
        self.add(Job("audit", config.audit.at, lambda: ["audit"], every_days=7, weekday=config.audit.weekday))
        self.add(Job("report", config.report.at, lambda: ["report", "--send"], every_days=7,
                     weekday=config.report.weekday))

    def add(self, job: Job) -> None:
        self.jobs[job.name] = job
        every = getattr(self.scheduler.every(), job.weekday) if job.weekday else self.scheduler.every().day
        every.at(job.at, self.config.timezone).do(self._want, job.name)
        state = self._state(job.name)
        job.failures = state.get("failures", 0)
        last_success = self._last_success(job.name, state)
        if self._missed(job, last_success):
            # Never run before is a first run, not a time missed "while the service was down".
            logger.info(t("job.first_run" if last_success is None else "job.missed", job=job.title))
            job.wanted = True

    # -- the loop ---------------------------------------------------------------------------
    def tick(self) -> None:
        self.scheduler.run_pending()
        for job in self.jobs.values():
            if job.process is not None:
                self._poll(job)
            elif job.wanted and time.monotonic() >= job.retry_at:
                self._start(job)

    def stop(self) -> None:
        """SIGINT to running jobs: a transfer stops its rclone group; the next run resumes."""
        for job in self.jobs.values():
            if job.process is not None and job.process.poll() is None:
                logger.info(t("log.job_stopped", job=job.title))
                job.process.send_signal(signal.SIGINT)
                try:
                    job.process.wait(15)
                except subprocess.TimeoutExpired:
                    job.process.kill()
            elif job.process is not None and job.process.returncode == 0:
                # It finished since the last tick: record it, or a restart would run it again.
                self._poll(job)

    # -- internals --------------------------------------------------------------------------
    def _want(self, name: str) -> None:
        job = self.jobs[name]
        last = self._state(name).get("last_success")
        if job.every_days in (1, 7) or last is None or datetime.fromisoformat(last) <= datetime.now(
                self.config.tz) - timedelta(days=job.every_days, hours=-1):
            job.wanted = True

    def _start(self, job: Job) -> None:
        job.args = job.argv()
        command = [str(dangan_binary()), *job.args, "--config", str(self.config_path)]
        logger.info(t("job.starting", job=job.title, args=" ".join(job.args)))
        try:
            # No progress lines from a job: its stderr is read for the reason when it fails (and
            # only once it ended, so lines every few seconds would fill the pipe and stall it).
            job.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.PIPE, text=True, env={**os.environ, QUIET: "1"})
        except OSError as exc:
            # A job that cannot start (a broken install, no memory for fork, a full process table)
            # is the job's failure, retried with back-off; the watcher must go on.
            job.wanted = False
            self._save(job.name, last_attempt=now())
            self._failed(job, t("job.spawn_failed", reason=words.os_error(exc)))
            return
        job.started = time.monotonic()
        job.wanted = False
        self._save(job.name, last_attempt=now())

    def _poll(self, job: Job) -> None:
        code = job.process.poll()
        if code is None:
            return
        stderr = job.process.stderr.read() if job.process.stderr else ""
        job.process = None
        if code == 0:
            logger.info(t("log.job_done", job=job.title))
            job.failures = 0
            self.alerts.clear(f"job_{job.name}")
            self._save(job.name, last_success=now(), failures=0, last_result="ok",
                       last_kind=" ".join(job.args))
            return
        self._failed(job, _last_line(stderr) or t("job.exit_code", code=code))

    def _failed(self, job: Job, reason: str) -> None:
        """The job failed (or could not start): an alert, and another attempt after a back-off."""
        job.failures += 1
        delay = min(RETRY_FIRST * 2 ** (job.failures - 1), RETRY_MAX)
        job.retry_at = time.monotonic() + delay
        job.wanted = True
        self.alerts.raise_(f"job_{job.name}", reason=reason, retry_in=round(delay))
        self._save(job.name, failures=job.failures, last_result=reason)

    def _missed(self, job: Job, last_success: str | None) -> bool:
        """Whether the latest scheduled time (today's, once past, else yesterday's) went by unserved."""
        tz = self.config.tz
        current = datetime.now(tz)
        hour, minute = map(int, job.at.split(":"))
        latest = current.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if latest > current:
            latest -= timedelta(days=1)
        if last_success is None:
            # A fresh install: the daily off-site copy should not wait a day; the weekly audit and
            # the monthly drill start at their own time (the archive is new, little to check yet).
            return job.every_days == 1
        if job.weekday:  # back to the latest such weekday
            target = WEEKDAYS.index(job.weekday)
            latest -= timedelta(days=(latest.weekday() - target) % 7)
            return datetime.fromisoformat(last_success) < latest
        return datetime.fromisoformat(last_success) < latest - timedelta(days=job.every_days - 1)

    def _last_success(self, name: str, state: dict) -> str | None:
        """When the job last succeeded. For the off-site job the catalog's record of runs counts
        too: a run that ended just as the service was stopped was stopped with it before the
        service saw its exit status, yet it is done."""
        last = state.get("last_success")
        if name == "offsite":
            good = self.catalog.offsite.last_good_run()
            ended = good.ended if good else None
            if ended and (last is None or datetime.fromisoformat(ended) > datetime.fromisoformat(last)):
                return ended
        return last

    def _state(self, name: str) -> dict:
        value = self.catalog.get_meta(f"job.{name}")
        return json.loads(value) if value else {}

    def _save(self, name: str, **values: object) -> None:
        state = self._state(name) | values
        with self.catalog.transaction():
            self.catalog.set_meta(f"job.{name}", json.dumps(state, ensure_ascii=False))

    def _offsite_argv(self) -> list[str]:
        """Today's off-site run: the yearly 报送 snapshot on its day, a full pass when due, else
        an incremental run."""
        settings = self.config.offsite
        today = datetime.now(self.config.tz)
        last = self.catalog.offsite.last_good_start_by_kind()
        if today.strftime("%m-%d") == settings.snapshot_on and not (last.get("snapshot") or "").startswith(
                str(today.year)):
            return ["backup", "--snapshot"]
        last_full = last.get("full")
        if last_full is None or datetime.fromisoformat(last_full) < today - timedelta(days=settings.full_every_days):
            return ["backup", "--full"]
        return ["backup"]


def dangan_binary() -> Path:
    """The `dangan` command installed beside this interpreter: each job runs as one."""
    return Path(sys.executable).with_name("dangan")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
