"""`dangan report`: the weekly integrity report admins actually read — Chinese first, one verdict
line at the top (正常 / 需要关注 / 严重), then the four properties of DA/T 70-2018, the problem files,
what each department still has to fix, the week's register, backup freshness, disk space and drills.

Three forms of the same facts, written atomically: one self-contained HTML file rendered from the
Jinja2 templates beside this module (``templates/``: the page, its CSS and its SVG charts, inline —
no external anything), a plain-text version for mail clients, and JSON for scripts. The HTML and the
text are both drawn from one view (:func:`view`), so they cannot say different things.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone, tzinfo
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from dangan.config.messages import language, t
from dangan.config.schema import Config

from dangan.backup.audit import PROPERTIES, Verdict, describe, property_lines, verdict_of
from dangan.registers import pages, scoresheet
from dangan.registers.assessment import Period, assess
from dangan.rules.rulebook import Violation, rule_title
from dangan.store.atomic import write_atomic
from dangan.store.catalog import Catalog, now
from dangan.store.catalog.media import MediaSet
from dangan.store.catalog.weekly import DiskSample
from dangan.store.layout import Layout
from dangan.store.names import printable
from dangan.store.progress import human_size
from dangan.store.clock import local

__all__ = ["OK", "ATTENTION", "CRITICAL", "Report", "property_lines", "sample_disks", "to_html", "to_text",
           "view", "write"]

OK, ATTENTION, CRITICAL = Verdict.OK.value, Verdict.ATTENTION.value, Verdict.CRITICAL.value
EVENTS = ("intake", "change", "removal", "restore")
EVENT_COLOURS = {"intake": "#2da44e", "change": "#0969da", "removal": "#cf222e", "restore": "#8250df"}
DISK_COLOURS = {"archive": "#0969da", "mirror": "#bf8700"}
PROBLEM_ROWS = 500  # more would make a mail nobody scrolls; the JSON has them all
TEMPLATES = Path(__file__).with_name("templates")


def sample_disks(catalog: Catalog, layout: Layout) -> None:
    """Record free space on the archive and mirror disks (for the trend)."""
    samples = []
    for disk, path in (("archive", layout.archive_root), ("mirror", layout.mirror_root)):
        try:
            usage = shutil.disk_usage(path)
        except OSError:
            continue
        samples.append(DiskSample(now(), disk, usage.total, usage.free))
    with catalog.transaction():
        catalog.weekly.add_disk_samples(samples)


class Report:
    """Gathers one week's report from the catalog."""

    def __init__(self, config: Config, catalog: Catalog) -> None:
        self.config = config
        self.catalog = catalog
        self.layout = Layout.of(config)
        self.now = datetime.now(config.tz)
        self.since = (datetime.now(timezone.utc) - timedelta(days=7)).isoformat(timespec="milliseconds")

    def gather(self) -> dict[str, Any]:
        from dangan.store import status

        sample_disks(self.catalog, self.layout)
        state = status.gather(self.layout, self.catalog)
        stored = self.catalog.audits.latest()
        audit = stored.summary if stored else None
        generated = now()
        data = {
            "generated": generated,
            "timezone": str(self.config.timezone),
            "week": self.now.strftime("%G-W%V"),
            "archive_id": self.layout.archive_id(),
            "status": state,
            "audit": audit,
            "properties": _properties(audit),
            "violations": self._violations(),
            "ledger": self._ledger(),
            "disks": self._disks(),
            "drills": [d._asdict() for d in self.catalog.weekly.latest_drills()],
            "media": self._media(),
            # 过程考核 (issue 17.6): the year so far, per department, rates not counts
            "assessment": assess(self.config, self.catalog, Period.year_to_date(self.config),
                                 generated).to_json(self.config),
            "previous_report_error": self.catalog.get_meta("report.last_error"),
            "previous_send_error": self.catalog.get_meta("report.last_send_error"),
        }
        data["verdict"], data["reasons"] = self._verdict(data)
        return data

    # -- sections ---------------------------------------------------------------------------
    def _violations(self) -> list[dict[str, Any]]:
        """One digest per department and rule: how many, the fix, how long the oldest is open."""
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        today = datetime.now(timezone.utc)
        for stored in self.catalog.open_violations().values():
            path, rule = stored.path, stored.rule
            head, sep, _ = path.partition(b"/")
            department = head.decode("utf-8", "backslashreplace") if sep or rule == "structure.department" \
                else t("check.root_department")
            entry = groups.setdefault((department, rule), {
                "department": department, "rule": rule, "title": rule_title(rule, self.config),
                "severity": stored.severity, "count": 0, "days_open": 0,
                "hint": Violation(path, rule, stored.severity, json.loads(stored.detail)).hint,
                "example": path.decode("utf-8", "backslashreplace")})
            entry["count"] += 1
            days = (today - datetime.fromisoformat(stored.first_seen)).days
            entry["days_open"] = max(entry["days_open"], days)
        return sorted(groups.values(), key=lambda e: (e["department"], e["severity"] != "error", e["rule"]))

    def _ledger(self) -> dict[str, dict[str, int]]:
        per: dict[str, Counter] = defaultdict(Counter)
        for entry in self.catalog.weekly.register(self.since, EVENTS):
            head, sep, _ = (entry.path or b"").partition(b"/")
            department = head.decode("utf-8", "backslashreplace") if sep else t("check.root_department")
            per[department][entry.event] += 1
        return {d: {e: c[e] for e in EVENTS} for d, c in sorted(per.items())}

    def _disks(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list] = defaultdict(list)
        for sample in self.catalog.weekly.disk_samples(60):
            out[sample.disk].append({"at": sample.at, "total": sample.total, "free": sample.free})
        return dict(out)

    def _media(self) -> dict[str, list[dict[str, Any]]]:
        """The offline sets due for their carrier check, and those whose last check failed."""
        def row(s: MediaSet) -> dict[str, Any]:
            return {"label": s.label, "medium": s.medium, "role": s.role, "kept_at": s.kept_at,
                    "written": s.written, "last_checked": s.last_checked, "result": s.result}
        every = self.config.media
        due = self.catalog.media.due(every.check_every_years_disk, every.check_every_years_optical)
        return {"due": [row(s) for s in due],
                "failed": [row(s) for s in self.catalog.media.sets() if s.result == "failed"]}

    def _verdict(self, data: dict[str, Any]) -> tuple[str, list[str]]:
        critical, attention = [], []
        audit, state = data["audit"], data["status"]
        if audit and audit["problems"]:
            critical.append(t("reason.audit_problems", count=audit["problems"]))
        if not state["mirror"]["available"]:
            critical.append(t("reason.mirror_missing"))
        elif state["mirror"]["unmirrored"] and (state["mirror"]["lag_seconds"] or 0) > 3600:
            critical.append(t("reason.mirror_behind", count=state["mirror"]["unmirrored"]))
        if state["deletions"]["held"]:
            critical.append(t("reason.deletions_held", count=state["deletions"]["held"]["count"]))
        if self.config.offsite.remote:
            ok = state["offsite"]["last_ok"]
            verified = ok and ok["verification"] == "ok" and ok["verified_at"]
            limit = timedelta(hours=self.config.offsite.max_age_hours)
            if not ok or datetime.fromisoformat(ok["ended"]) < datetime.now(timezone.utc) - limit:
                critical.append(t("reason.offsite_stale", hours=self.config.offsite.max_age_hours))
            elif not verified:
                attention.append(t("reason.offsite_unverified"))
        # A property the last audit did not rate 正常 is a reason of its own, unless the fixity
        # problems above already say it (a corrupted or missing copy).
        for row in data["properties"]:
            said = audit and audit["problems"] and row["name"] in ("authenticity", "integrity")
            if row["verdict"] in (None, OK) or said:
                continue
            reason = t("reason.property", property=t(f"property.short.{row['name']}"),
                       state=t(f"audit.verdict.{row['verdict']}"), facts=row["facts"])
            (critical if row["verdict"] == CRITICAL else attention).append(reason)
        if data["previous_report_error"]:
            critical.append(t("reason.report_failed", error=data["previous_report_error"]))
        if data["previous_send_error"]:
            attention.append(t("reason.send_failed", error=data["previous_send_error"]))
        if audit is None:
            attention.append(t("reason.never_audited"))
        elif datetime.fromisoformat(audit["at"]) < datetime.now(timezone.utc) - timedelta(days=8):
            attention.append(t("reason.audit_old"))
        errors = sum(v["count"] for v in data["violations"] if v["severity"] == "error")
        if errors:
            attention.append(t("reason.violations", count=errors))
        if any(not d["ok"] for d in data["drills"]):
            attention.append(t("reason.drill_failed"))
        if data["media"]["failed"]:
            attention.append(t("reason.media_failed", count=len(data["media"]["failed"])))
        if data["media"]["due"]:
            attention.append(t("reason.media_due", count=len(data["media"]["due"])))
        for disk, samples in data["disks"].items():
            if samples and samples[-1]["free"] < 0.1 * samples[-1]["total"]:
                attention.append(t("reason.disk_low", disk=t(f"disk.{disk}")))
        verdict = CRITICAL if critical else ATTENTION if attention else OK
        return verdict, critical + attention


def _properties(audit: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The four properties of the last audit: verdict and facts in words, as every form shows them."""
    if audit is None:
        return []
    rows = []
    for name in PROPERTIES:
        value = audit["properties"].get(name, {})
        verdict = verdict_of(value)
        rows.append({"name": name, "verdict": verdict.value if verdict else None,
                     "facts": describe(name, value)})
    return rows


# -- units and times ---------------------------------------------------------------------------
def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds >= 3600:
        return t("report.hours", value=f"{seconds / 3600:.1f}")
    if seconds >= 60:
        return t("report.minutes", value=f"{seconds / 60:.1f}")
    return t("report.seconds", value=f"{seconds:.0f}")


def _zone(data: dict[str, Any]) -> tzinfo:
    try:
        return ZoneInfo(data.get("timezone") or "UTC")
    except (KeyError, ValueError):
        return timezone.utc


def local_time(at: str | None, zone: tzinfo) -> str:
    """A catalog time (UTC) in the configured zone with its offset: 2026-12-02 21:30 +08:00."""
    return local(at, zone)


# -- the view both forms are drawn from --------------------------------------------------------
def view(data: dict[str, Any]) -> dict[str, Any]:
    """Everything the report shows, in words and numbers ready to print (no markup)."""
    zone = _zone(data)
    audit = data["audit"]
    findings = [f for f in (audit or {}).get("findings", []) if f["kind"] != "new"]
    return {
        "lang": "zh-CN" if language() == "zh" else "en",
        "title": t("report.title", week=data["week"]),
        "verdict": data["verdict"],
        "verdict_text": t(f"verdict.{data['verdict']}"),
        "reasons": data["reasons"],
        "audited": t("report.properties", at=local_time(audit["at"], zone) if audit else "—"),
        "properties": [{"name": t(f"property.{row['name']}"), "verdict": row["verdict"] or "none",
                        "state": t(f"audit.verdict.{row['verdict']}") if row["verdict"] else "—",
                        "facts": row["facts"]} for row in data["properties"]],
        "problems": [_problem(f) for f in findings[:PROBLEM_ROWS]],
        "more_problems": max(0, len(findings) - PROBLEM_ROWS),
        "violations": [{**v, "title": v.get("title") or v["rule"]} for v in data["violations"]],
        "register": _register(data["ledger"]),
        "scorecard": scoresheet.view(data["assessment"]),
        "backups": _backup_lines(data, zone),
        "disks": _disk_rows(data["disks"]),
        "trend": _trend(data["disks"], zone),
        "drills": [{"source": t(f"drill.source.{d['source']}"), "at": local_time(d["at"], zone),
                    "files": d["files"], "ok": d["ok"],
                    "result": t("drill.ok") if d["ok"] else t("report.not_ok"),
                    "projected": duration(d["projected_seconds"])} for d in data["drills"]],
        "media": [{"label": m["label"], "medium": t(f"media.medium.{m['medium']}"), "role": m["role"],
                   "kept_at": m["kept_at"] or "—", "last": local_time(m["last_checked"] or m["written"], zone),
                   "state": t("media.result.failed") if m in data["media"]["failed"] else t("media.due"),
                   "ok": False}
                  for m in data["media"]["failed"] + [m for m in data["media"]["due"]
                                                     if m not in data["media"]["failed"]]],
        "footer": t("report.footer", generated=local_time(data["generated"], zone)),
    }


def _problem(finding: dict[str, Any]) -> dict[str, str]:
    repair = finding.get("repair")
    # Audits stored before findings were typed carry only the English "action".
    action = (t(f"audit.repair.{repair}", error=finding.get("error", "")) if repair
              else finding.get("action", ""))
    # "where", not "copy": in a template p.copy would be the dict's own copy method.
    # names escaped: a control character in a file name must not reach a terminal or a mail raw
    return {"path": printable(finding["path"] or "—"), "where": t(f"copy.{finding['copy']}"),
            "kind": t(f"finding.{finding['kind']}"), "detail": printable(finding["detail"] or ""),
            "action": action}


def _register(ledger: dict[str, dict[str, int]]) -> dict[str, Any]:
    """The week's register per department, with the geometry of one stacked bar per row; each
    segment carries its number when it is wide enough to hold it, the total stands after the bar."""
    width, peak = 300.0, max((sum(c.values()) for c in ledger.values()), default=0) or 1
    rows = []
    for department, counts in ledger.items():
        x, segments = 0.0, []
        for event in EVENTS:
            w = width * counts[event] / peak
            if counts[event]:
                label = str(counts[event])
                segments.append({"x": round(x, 1), "width": round(w, 1), "colour": EVENT_COLOURS[event],
                                 "count": counts[event], "event": t(f"event.{event}"),
                                 "label": label if w >= 7 * len(label) + 6 else ""})
            x += w
        rows.append({"department": department, "counts": [counts[e] for e in EVENTS],
                     "total": sum(counts.values()), "segments": segments, "end": round(x, 1)})
    return {"rows": rows, "width": width, "events": [t(f"event.{e}") for e in EVENTS],
            "legend": [{"event": t(f"event.{e}"), "colour": EVENT_COLOURS[e]} for e in EVENTS]}


def _backup_lines(data: dict[str, Any], zone: tzinfo) -> list[str]:
    state = data["status"]
    available = t("report.ok") if state["mirror"]["available"] else t("report.not_ok")
    lines = [t("report.mirror_state", available=available,
               unmirrored=state["mirror"]["unmirrored"], lag=duration(state["mirror"]["lag_seconds"] or 0),
               reconcile=local_time((state["last_reconcile"] or {}).get("at"), zone))]
    ok = state["offsite"]["last_ok"]
    if ok:
        lines.append(t("report.offsite_line", ended=local_time(ok["ended"], zone), files=ok["files"],
                       bytes=human_size(ok["bytes"]),
                       verification=t("report.ok") if ok["verification"] == "ok"
                       else ok["verification"] or t("status.offsite_unverified")))
    else:
        lines.append(t("status.offsite_never"))
    return lines


def _disk_rows(disks: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = []
    for disk, samples in disks.items():
        if samples:
            last = samples[-1]
            rows.append({"disk": t(f"disk.{disk}"), "free": human_size(last["free"]),
                         "total": human_size(last["total"]),
                         "percent": round(100 * last["free"] / max(last["total"], 1)),
                         "colour": DISK_COLOURS.get(disk, "#57606a")})
    return rows


def _trend(disks: dict[str, list[dict[str, Any]]], zone: tzinfo) -> dict[str, Any] | None:
    """A line chart of free space per disk: a y axis in bytes with its unit, dates on the x axis."""
    series = {d: s for d, s in disks.items() if s}
    count = max((len(s) for s in series.values()), default=0)
    if count < 2:
        return None
    left, top, width, height = 70, 28, 520, 150
    times = [datetime.fromisoformat(s["at"]) for samples in series.values() for s in samples]
    start, end = min(times), max(times)
    span = (end - start).total_seconds() or 1
    ceiling = max(s["total"] for samples in series.values() for s in samples) or 1

    def x(at: datetime) -> float:
        return round(left + width * (at - start).total_seconds() / span, 1)

    def y(value: float) -> float:
        return round(top + height * (1 - value / ceiling), 1)

    lines = []
    for disk, samples in series.items():
        points = [(x(datetime.fromisoformat(s["at"])), y(s["free"])) for s in samples]
        lines.append({"disk": t(f"disk.{disk}"), "colour": DISK_COLOURS.get(disk, "#57606a"),
                      "points": " ".join(f"{px},{py}" for px, py in points), "last": points[-1],
                      "label": human_size(samples[-1]["free"])})
    ticks_y = [{"y": y(ceiling * i / 4), "label": human_size(ceiling * i / 4)} for i in range(5)]
    ticks_x: list[dict[str, Any]] = []
    for i in range(3):
        at = start + (end - start) * i / 2
        label = at.astimezone(zone).strftime("%m-%d" if span > 86400 else "%m-%d %H:%M")
        if not ticks_x or ticks_x[-1]["label"] != label:  # samples close together: one date, once
            ticks_x.append({"x": x(at), "label": label})
    return {"left": left, "top": top, "width": width, "height": height, "lines": lines, "ticks_y": ticks_y,
            "ticks_x": ticks_x, "axis": t("report.axis_free"), "caption": t("report.trend", count=count),
            "svg_width": left + width + 90, "svg_height": top + height + 26}


# -- the three forms ---------------------------------------------------------------------------
def to_text(data: dict[str, Any]) -> str:
    v = view(data)
    lines = [v["title"], v["verdict_text"], ""]
    lines += [f"- {r}" for r in v["reasons"]] or [t("report.all_fine")]
    lines += ["", v["audited"]]
    lines += (property_lines(data["audit"]["properties"]) if data["audit"] else [t("reason.never_audited")])
    if v["problems"]:
        lines += ["", t("report.problem_files")]
        lines += [f"  [{p['where']}] {p['kind']} {p['path']} {p['detail']} {p['action']}".rstrip()
                  for p in v["problems"]]
        if v["more_problems"]:
            lines.append("  " + t("report.more_problems", count=v["more_problems"]))
    lines += ["", t("report.violations")]
    for row in v["violations"]:
        lines.append(t("report.violation_line", department=printable(row["department"]), rule=row["title"],
                       count=row["count"], days=row["days_open"], hint=row["hint"]))
    if not v["violations"]:
        lines.append(t("report.none"))
    lines += ["", t("report.ledger")]
    for row in v["register"]["rows"]:
        lines.append(f"  {printable(row['department'])}：" + "，".join(
            f"{event} {count}" for event, count in zip(v["register"]["events"], row["counts"])))
    if not v["register"]["rows"]:
        lines.append("  " + t("report.register_empty"))
    card = v["scorecard"]
    lines += ["", t("assessment.section", period=card["period_label"]), f"  {card['school']}　{card['generated']}",
              *scoresheet.text_lines(card)]
    lines += ["", t("report.backups")] + [f"  {line}" for line in v["backups"]]
    lines += ["", t("report.disks")]
    for row in v["disks"]:
        lines.append(t("report.disk_line", disk=row["disk"], free=row["free"], total=row["total"],
                       percent=row["percent"]))
    lines += ["", t("report.drills")]
    for d in v["drills"]:
        lines.append(t("report.drill_line", source=d["source"], at=d["at"], files=d["files"],
                       verdict=d["result"], projected=d["projected"]))
    if not v["drills"]:
        lines.append("  " + t("report.no_drill"))
    lines += ["", t("report.media")]
    lines += [t("report.media_line", **m) for m in v["media"]] or ["  " + t("report.media_fine")]
    lines += ["", v["footer"]]
    return "\n".join(lines) + "\n"


@cache
def _environment() -> jinja2.Environment:
    # Autoescaped everywhere: file and department names are whatever people typed.
    # The registers' templates too: the scorecard's table is the same macro in the report and the export.
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(TEMPLATES), jinja2.FileSystemLoader(pages.TEMPLATES)])
    env = jinja2.Environment(loader=loader, autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["t"] = t
    return env


def to_html(data: dict[str, Any]) -> str:
    return _environment().get_template("report.html.j2").render(v=view(data))


def write(data: dict[str, Any], out: Path) -> dict[str, Path]:
    """The three forms, written atomically; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    base = f"weekly-{data['week']}"
    paths = {"html": out / f"{base}.html", "text": out / f"{base}.txt", "json": out / f"{base}.json"}
    write_atomic(paths["html"], to_html(data).encode("utf-8"))
    write_atomic(paths["text"], to_text(data).encode("utf-8"))
    write_atomic(paths["json"], json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8"))
    return paths
