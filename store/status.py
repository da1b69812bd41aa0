"""The service's state for `dangan status`: what the running service wrote to
``state_dir/status.json``, plus what the catalog says (true even when the service is down)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dangan.config.messages import has, t

from dangan.store.atomic import write_atomic
from dangan.store.catalog import Catalog
from dangan.store.clock import local
from dangan.store.layout import Layout
from dangan.store.names import printable

STATUS_FILE = "status.json"
HELD = "deletions_held"  # catalog meta key: a mass deletion held for confirmation


def write(layout: Layout, state: dict[str, Any]) -> None:
    write_atomic(layout.state_dir / STATUS_FILE, json.dumps(state, ensure_ascii=False, indent=1).encode("utf-8"),
                 durable=False)


def read(layout: Layout) -> dict[str, Any] | None:
    try:
        return json.loads((layout.state_dir / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def gather(layout: Layout, catalog: Catalog) -> dict[str, Any]:
    """Everything `dangan status` shows, as one JSON-ready mapping."""
    service = read(layout) or {}
    running = service.get("state") == "running" and _alive(service.get("pid"))
    readings = catalog.readings
    files = readings.present_count()
    unmirrored, oldest = readings.mirror_backlog()
    pending = readings.pending_removal_count()
    violations = readings.open_violations_by_severity()
    held = catalog.get_meta(HELD)
    lag = None
    if oldest:
        lag = round((datetime.now(timezone.utc) - datetime.fromisoformat(oldest)).total_seconds(), 1)
    return {
        "running": running,
        "pid": service.get("pid") if running else None,
        "updated_at": service.get("updated_at"),
        "queue": service.get("queue", 0) if running else 0,
        "last_reconcile": service.get("last_reconcile") or _meta_json(catalog, "last_reconcile"),
        "files": files,
        "mirror": {
            "available": Path(layout.mirror_marker).is_file(),
            "unmirrored": unmirrored,
            "lag_seconds": lag,
        },
        "deletions": {"pending": pending, "held": json.loads(held) if held else None},
        "offsite": _offsite(catalog),
        "violations": {"error": violations.get("error", 0), "warning": violations.get("warning", 0)},
        "alerts": _still_true(service.get("alerts", {}), catalog) if running else {},
        "notes": service.get("notes", []) if running else [],
        "inotify": service.get("inotify") if running else None,
    }


def _offsite(catalog: Catalog) -> dict[str, Any]:
    last = catalog.offsite.latest_run()
    ok = catalog.offsite.last_good_run()
    # The newest verification decides: one that failed stays shown (a newer, unverified run does
    # not hide it) until one passes.
    checked = catalog.offsite.last_verification()
    failed = checked if checked and (checked.verification or "").startswith("failed") else None
    return {
        "last": {"id": last.id, "kind": last.kind, "ended": last.ended, "result": last.result,
                 "reason": last.reason} if last else None,
        # files and bytes: what the run's inventory lists (the partner's whole copy)
        "last_ok": {"id": ok.id, "ended": ok.ended, "files": ok.total_files, "bytes": ok.total_bytes,
                    "verified_at": ok.verified_at, "verification": ok.verification} if ok else None,
        "verification_failed": {"run": failed.id, "at": failed.verified_at,
                                "verification": failed.verification} if failed else None,
    }


def _still_true(alerts: dict[str, dict[str, Any]], catalog: Catalog) -> dict[str, dict[str, Any]]:
    """The service's alerts, less those whose cause the catalog shows cleared since it raised them
    (status.json is written by the service, which learns of a backup made by hand only at its next try)."""
    alert = alerts.get("job_offsite")
    if alert and alert.get("since"):
        done = catalog.offsite.last_good_run()
        if done and done.ended and done.ended > alert["since"]:
            alerts = {k: v for k, v in alerts.items() if k != "job_offsite"}
    return alerts


def _meta_json(catalog: Catalog, key: str) -> Any:
    value = catalog.get_meta(key)
    return json.loads(value) if value else None


def render(status: dict[str, Any]) -> str:
    """`dangan status` as text: times in the configured zone (see :mod:`dangan.store.clock`), each
    alert in its own words."""
    lines = [t("status.running", pid=status["pid"]) if status["running"] else t("status.stopped")]
    reconcile = status.get("last_reconcile")
    lines.append(t("status.reconcile", at=local(reconcile["at"]), seconds=reconcile["seconds"],
                   files=reconcile["files"]) if reconcile else t("status.reconcile_never"))
    lines.append(t("status.queue", queue=status["queue"], files=status["files"]))
    mirror = status["mirror"]
    lines.append(t("status.mirror_ok") if mirror["available"] else t("status.mirror_missing"))
    if mirror["unmirrored"]:
        lines.append(t("status.mirror_behind", count=mirror["unmirrored"], seconds=mirror["lag_seconds"]))
    else:
        lines.append(t("status.mirror_current"))
    deletions = status["deletions"]
    if deletions["held"]:
        held = deletions["held"]
        lines.append(t("status.held", count=held["count"], since=local(held["since"])))
    elif deletions["pending"]:
        # Not held (yet): say who applies them and when, or what to run when nobody will.
        lines.append(t("status.pending_deletions", count=deletions["pending"]) + t(
            "status.pending_hint_running" if status["running"] else "status.pending_hint_stopped"))
    offsite = status["offsite"]
    if offsite["last_ok"]:
        ok = offsite["last_ok"]
        lines.append(t("status.offsite", ended=local(ok["ended"]), files=ok["files"],
                       verified=_verification(ok["verification"])))
    else:
        lines.append(t("status.offsite_never"))
    if offsite.get("verification_failed"):
        failed = offsite["verification_failed"]
        lines.append(t("status.offsite_verify_failed", run=failed["run"], at=failed["at"],
                       problems=failed["verification"].removeprefix("failed: ")))
    if offsite["last"] and offsite["last"]["result"] == "failed":
        lines.append(t("status.offsite_failed", ended=local(offsite["last"]["ended"]),
                       reason=offsite["last"]["reason"]))
    lines.append(t("status.violations", errors=status["violations"]["error"],
                   warnings=status["violations"]["warning"]))
    for note in status.get("notes", []):
        text = note_text(note)
        if text:
            lines.append(printable(text))
    for kind, detail in sorted(status["alerts"].items()):
        lines.append(t("alert.raised", text=printable(alert_text(kind, detail))))
    return "\n".join(lines)


def note_text(note: dict[str, Any]) -> str:
    """A note (something that happened, not a lasting condition) in words; empty if unknown."""
    kind = note.get("kind")
    try:
        if kind == "unreadable":
            return t("mirror.unreadable", path=note["path"], reason=note["reason"])
        if _known(f"note.{kind}"):
            return t(f"note.{kind}", **(note | {"since": local(note.get("since") or note.get("at"))}))
    except (KeyError, IndexError, ValueError):
        pass
    return ""


def alert_title(kind: str) -> str:
    """An alert kind's short name in words."""
    if kind.startswith("job_"):
        return t("alert.job", job=job_title(kind[4:]))
    return t(f"alert.{kind}") if _known(f"alert.{kind}") else kind


def alert_text(kind: str, detail: dict[str, Any]) -> str:
    """One alert in words with its facts: each kind has its own sentence (never ``key=value``)."""
    facts = dict(detail)
    if "since" in facts:
        facts["since"] = local(facts["since"])
    try:
        if kind.startswith("job_"):
            return t("alert_text.job", job=job_title(kind[4:]), reason=facts["reason"],
                     retry=_duration(facts["retry_in"]))
        if _known(f"alert_text.{kind}"):
            return t(f"alert_text.{kind}", **facts)
    except (KeyError, IndexError, ValueError):
        pass  # an older or partial detail: the title and whatever reason it has
    reason = facts.get("reason") or facts.get("detail")
    return t("alert_text.other", title=alert_title(kind), reason=reason) if reason else alert_title(kind)


def _verification(value: str | None) -> str:
    """The off-site copy's verification verdict in words ("ok" or "failed: <problems>" stored)."""
    if not value:
        return t("status.offsite_unverified")
    if value == "ok":
        return t("status.verification.ok")
    if value.startswith("failed: "):
        return t("status.verification.failed", reason=value.removeprefix("failed: "))
    return value


def _duration(seconds: Any) -> str:
    seconds = float(seconds)
    if seconds >= 3600:
        return t("duration.hours", value=f"{seconds / 3600:g}")
    return t("duration.minutes", value=f"{max(seconds / 60, 1):.0f}")


def _known(key: str) -> bool:
    from dangan.config.messages import has

    return has(key)


def job_title(name: str) -> str:
    """A scheduled job as people call it (异地备份, not offsite)."""
    return t(f"job.title.{name}") if has(f"job.title.{name}") else name
