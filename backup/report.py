"""`dangan report`: the weekly integrity report admins actually read — Chinese first, one verdict
line at the top (正常 / 需要关注 / 严重), then the four properties of DA/T 70-2018, the problem files,
what each department still has to fix, the week's register, backup freshness, disk space and drills.

One self-contained HTML file (inline CSS, inline SVG charts, no external anything), a plain-text
version for mail clients and JSON for scripts, written atomically.
"""

from __future__ import annotations

import html
import json
import shutil
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from dangan.config.messages import t
from dangan.config.schema import Config

from dangan.store.atomic import write_atomic
from dangan.store.catalog import Catalog, now
from dangan.store.layout import Layout
from dangan.store.names import printable
from dangan.rules.rulebook import Violation

OK, ATTENTION, CRITICAL = "ok", "attention", "critical"
COLOURS = {OK: "#1a7f37", ATTENTION: "#b08800", CRITICAL: "#cf222e"}
EVENTS = ("intake", "change", "removal", "restore")


def property_lines(properties: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for name in ("authenticity", "integrity", "usability", "security"):
        value = properties.get(name, {})
        state = t("report.ok") if value.get("ok") else t("report.not_ok") if value.get("ok") is False else "—"
        detail = ", ".join(f"{k}={v}" for k, v in value.items() if k != "ok")
        lines.append(f"  {t(f'property.{name}')}：{state}（{detail}）")
    return lines


def sample_disks(catalog: Catalog, layout: Layout) -> None:
    """Record free space on the archive and mirror disks (for the trend)."""
    rows = []
    for disk, path in (("archive", layout.archive_root), ("mirror", layout.mirror_root)):
        try:
            usage = shutil.disk_usage(path)
        except OSError:
            continue
        rows.append((now(), disk, usage.total, usage.free))
    with catalog.transaction():
        catalog.db.executemany("INSERT INTO disk_samples VALUES (?,?,?,?)", rows)


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
        audit = self._last_audit()
        data = {
            "generated": now(),
            "week": self.now.strftime("%G-W%V"),
            "archive_id": self.layout.archive_id(),
            "status": state,
            "audit": audit,
            "violations": self._violations(),
            "ledger": self._ledger(),
            "disks": self._disks(),
            "drills": self._drills(),
            "previous_report_error": self.catalog.get_meta("report.last_error"),
            "previous_send_error": self.catalog.get_meta("report.last_send_error"),
        }
        data["verdict"], data["reasons"] = self._verdict(data)
        return data

    # -- sections ---------------------------------------------------------------------------
    def _last_audit(self) -> dict[str, Any] | None:
        row = self.catalog.db.execute("SELECT summary FROM audits ORDER BY id DESC LIMIT 1").fetchone()
        return json.loads(row[0]) if row else None

    def _violations(self) -> list[dict[str, Any]]:
        """One digest per department and rule: how many, the fix, how long the oldest is open."""
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        today = datetime.now(timezone.utc)
        for path, rule, severity, detail, first_seen in self.catalog.db.execute(
                "SELECT path, rule, severity, detail, first_seen FROM violations WHERE fixed_at IS NULL"):
            head, sep, _ = path.partition(b"/")
            department = head.decode("utf-8", "backslashreplace") if sep or rule == "structure.department" \
                else t("check.root_department")
            entry = groups.setdefault((department, rule), {
                "department": department, "rule": rule, "severity": severity, "count": 0, "days_open": 0,
                "hint": Violation(path, rule, severity, json.loads(detail)).hint,
                "example": path.decode("utf-8", "backslashreplace")})
            entry["count"] += 1
            days = (today - datetime.fromisoformat(first_seen)).days
            entry["days_open"] = max(entry["days_open"], days)
        return sorted(groups.values(), key=lambda e: (e["department"], e["severity"] != "error", e["rule"]))

    def _ledger(self) -> dict[str, dict[str, int]]:
        per: dict[str, Counter] = defaultdict(Counter)
        for event, path in self.catalog.db.execute(
                "SELECT event, path FROM ledger WHERE at >= ? AND event IN (?,?,?,?)", (self.since, *EVENTS)):
            head, sep, _ = (path or b"").partition(b"/")
            per[head.decode("utf-8", "backslashreplace") if sep else t("check.root_department")][event] += 1
        return {d: {e: c[e] for e in EVENTS} for d, c in sorted(per.items())}

    def _disks(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list] = defaultdict(list)
        for at, disk, total, free in self.catalog.db.execute(
                "SELECT at, disk, total, free FROM disk_samples ORDER BY at DESC LIMIT 60"):
            out[disk].insert(0, {"at": at, "total": total, "free": free})
        return dict(out)

    def _drills(self) -> list[dict[str, Any]]:
        rows = self.catalog.db.execute(
            "SELECT source, at, files, bytes, seconds, ok, projected_seconds FROM drills WHERE id IN"
            " (SELECT max(id) FROM drills GROUP BY source) ORDER BY source").fetchall()
        keys = ("source", "at", "files", "bytes", "seconds", "ok", "projected_seconds")
        return [dict(zip(keys, row)) for row in rows]

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
        for disk, samples in data["disks"].items():
            if samples and samples[-1]["free"] < 0.1 * samples[-1]["total"]:
                attention.append(t("reason.disk_low", disk=t(f"disk.{disk}")))
        verdict = CRITICAL if critical else ATTENTION if attention else OK
        return verdict, critical + attention


# -- rendering --------------------------------------------------------------------------------
def to_text(data: dict[str, Any]) -> str:
    lines = [t("report.title", week=data["week"]), t(f"verdict.{data['verdict']}"), ""]
    lines += [f"- {r}" for r in data["reasons"]] or [t("report.all_fine")]
    audit = data["audit"]
    lines += ["", t("report.properties", at=audit["at"] if audit else "—")]
    lines += property_lines(audit["properties"]) if audit else [t("reason.never_audited")]
    problems = [f for f in (audit or {}).get("findings", []) if f["kind"] != "new"]
    if problems:
        lines += ["", t("report.problem_files")]
        lines += [f"  [{t('copy.' + f['copy'])}] {t('finding.' + f['kind'])} {printable(f['path'])} "
                  f"{printable(f['detail'] or '')} {f['action']}"
                  for f in problems[:200]]
    lines += ["", t("report.violations")]
    for v in data["violations"]:
        lines.append(t("report.violation_line", department=v["department"], rule=v["rule"], count=v["count"],
                       days=v["days_open"], hint=v["hint"]))
    if not data["violations"]:
        lines.append(t("report.none"))
    lines += ["", t("report.ledger")]
    for department, counts in data["ledger"].items():
        lines.append(f"  {department}：" + "，".join(f"{t('event.' + e)} {counts[e]}" for e in EVENTS))
    lines += ["", t("report.backups")] + _backup_lines(data)
    lines += ["", t("report.disks")]
    for disk, samples in data["disks"].items():
        if samples:
            last = samples[-1]
            lines.append(t("report.disk_line", disk=t(f"disk.{disk}"), free=_gb(last["free"]), total=_gb(last["total"]),
                           percent=round(100 * last["free"] / max(last["total"], 1))))
    lines += ["", t("report.drills")]
    for d in data["drills"]:
        lines.append(t("report.drill_line", source=t(f"drill.source.{d['source']}"), at=d["at"], files=d["files"],
                       verdict=t("drill.ok") if d["ok"] else t("report.not_ok"),
                       projected=_duration(d["projected_seconds"])))
    if not data["drills"]:
        lines.append(t("report.no_drill"))
    return "\n".join(lines) + "\n"


def _backup_lines(data: dict[str, Any]) -> list[str]:
    state = data["status"]
    lines = [t("report.mirror_line", available=t("report.ok") if state["mirror"]["available"] else t("report.not_ok"),
               unmirrored=state["mirror"]["unmirrored"], lag=state["mirror"]["lag_seconds"] or 0,
               reconcile=(state["last_reconcile"] or {}).get("at", "—"))]
    ok = state["offsite"]["last_ok"]
    if ok:
        lines.append(t("report.offsite_line", ended=ok["ended"], files=ok["files"], bytes=_gb(ok["bytes"]),
                       verification=ok["verification"] or t("status.offsite_unverified")))
    else:
        lines.append(t("status.offsite_never"))
    return lines


def _gb(n: int | None) -> str:
    return f"{(n or 0) / 1e9:.2f} GB"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _bars(ledger: dict[str, dict[str, int]]) -> str:
    """A small inline SVG bar chart of the week's register per department."""
    colours = {"intake": "#2da44e", "change": "#0969da", "removal": "#cf222e", "restore": "#8250df"}
    rows = list(ledger.items())
    peak = max((sum(c.values()) for _, c in rows), default=0) or 1
    height = 22 * len(rows) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="{height}" role="img">']
    for i, (department, counts) in enumerate(rows):
        y = 10 + 22 * i
        parts.append(f'<text x="0" y="{y + 13}" font-size="12">{html.escape(department)}</text>')
        x = 140.0
        for event in EVENTS:
            width = 480 * counts[event] / peak
            if width:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="16" fill="{colours[event]}">'
                             f'<title>{t("event." + event)} {counts[event]}</title></rect>')
            x += width
    legend_y = height - 8
    for i, event in enumerate(EVENTS):
        parts.append(f'<rect x="{140 + 110 * i}" y="{legend_y - 10}" width="10" height="10" fill="{colours[event]}"/>'
                     f'<text x="{154 + 110 * i}" y="{legend_y}" font-size="12">{t("event." + event)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _sparkline(samples: list[dict[str, Any]]) -> str:
    if len(samples) < 2:
        return ""
    values = [s["free"] / max(s["total"], 1) for s in samples]
    points = " ".join(f"{10 + 200 * i / (len(values) - 1):.1f},{40 - 30 * v:.1f}" for i, v in enumerate(values))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="220" height="44"><polyline points="{points}" '
            f'fill="none" stroke="#0969da" stroke-width="2"/></svg>')


def to_html(data: dict[str, Any]) -> str:
    e = html.escape
    verdict = data["verdict"]
    audit = data["audit"]
    rows = "".join(f"<tr><td>{e(t('property.' + name))}</td><td>{e(t('report.ok') if v.get('ok') else t('report.not_ok') if v.get('ok') is False else '—')}</td>"
                   f"<td>{e(', '.join(f'{k}={x}' for k, x in v.items() if k != 'ok'))}</td></tr>"
                   for name, v in (audit["properties"].items() if audit else []))
    problems = [f for f in (audit or {}).get("findings", []) if f["kind"] != "new"]
    problem_rows = "".join(f"<tr><td>{e(f['path'])}</td><td>{e(t('copy.' + f['copy']))}</td>"
                           f"<td>{e(t('finding.' + f['kind']))} {e(f['detail'])}</td><td>{e(f['action'])}</td></tr>"
                           for f in problems[:500])
    violation_rows = "".join(
        f"<tr><td>{e(v['department'])}</td><td><code>{e(v['rule'])}</code></td><td>{v['count']}</td>"
        f"<td>{v['days_open']}</td><td>{e(v['hint'])}</td></tr>" for v in data["violations"])
    disks = "".join(f"<tr><td>{e(t('disk.' + d))}</td><td>{_gb(s[-1]['free'])} / {_gb(s[-1]['total'])}</td>"
                    f"<td>{_sparkline(s)}</td></tr>" for d, s in data["disks"].items() if s)
    drills = "".join(f"<tr><td>{e(t('drill.source.' + d['source']))}</td><td>{e(d['at'])}</td><td>{d['files']}</td>"
                     f"<td>{e(t('drill.ok') if d['ok'] else t('report.not_ok'))}</td><td>{_duration(d['projected_seconds'])}</td></tr>"
                     for d in data["drills"])
    reasons = "".join(f"<li>{e(r)}</li>" for r in data["reasons"]) or f"<li>{e(t('report.all_fine'))}</li>"
    backups = "".join(f"<p>{e(line)}</p>" for line in _backup_lines(data))
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{e(t('report.title', week=data['week']))}</title>
<style>
body{{font-family:"Noto Sans CJK SC","Noto Sans SC","Microsoft YaHei",sans-serif;margin:2em;color:#1f2328;max-width:1000px}}
.verdict{{font-size:1.6em;font-weight:bold;padding:.5em 1em;border-radius:6px;color:#fff;background:{COLOURS[verdict]}}}
table{{border-collapse:collapse;margin:.5em 0 1.5em;width:100%}}td,th{{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}}
th{{background:#f6f8fa}}td:nth-child(2){{white-space:nowrap}}h2{{border-bottom:1px solid #d0d7de;padding-bottom:.2em}}code{{font-size:.9em}}
</style></head><body>
<h1>{e(t('report.title', week=data['week']))}</h1>
<div class="verdict" id="verdict">{e(t('verdict.' + verdict))}</div>
<ul>{reasons}</ul>
<h2>{e(t('report.properties', at=audit['at'] if audit else '—'))}</h2>
<table><tr><th>{e(t('report.col.property'))}</th><th>{e(t('report.col.state'))}</th><th>{e(t('report.col.detail'))}</th></tr>{rows}</table>
<h2>{e(t('report.problem_files'))}</h2>
<table><tr><th>{e(t('report.col.path'))}</th><th>{e(t('report.col.copy'))}</th><th>{e(t('report.col.found'))}</th><th>{e(t('report.col.action'))}</th></tr>{problem_rows or '<tr><td colspan="4">' + e(t('report.none')) + '</td></tr>'}</table>
<h2>{e(t('report.violations'))}</h2>
<table><tr><th>{e(t('report.col.department'))}</th><th>{e(t('report.col.rule'))}</th><th>{e(t('report.col.count'))}</th><th>{e(t('report.col.days'))}</th><th>{e(t('report.col.hint'))}</th></tr>{violation_rows or '<tr><td colspan="5">' + e(t('report.none')) + '</td></tr>'}</table>
<h2>{e(t('report.ledger'))}</h2>{_bars(data['ledger'])}
<h2>{e(t('report.backups'))}</h2>{backups}
<h2>{e(t('report.disks'))}</h2><table>{disks}</table>
<h2>{e(t('report.drills'))}</h2><table>{drills or '<tr><td>' + e(t('report.no_drill')) + '</td></tr>'}</table>
<p style="color:#656d76">{e(t('report.footer', generated=data['generated']))}</p>
</body></html>
"""


def write(data: dict[str, Any], out: Path) -> dict[str, Path]:
    """The three forms, written atomically; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    base = f"weekly-{data['week']}"
    paths = {"html": out / f"{base}.html", "text": out / f"{base}.txt", "json": out / f"{base}.json"}
    write_atomic(paths["html"], to_html(data).encode("utf-8"))
    write_atomic(paths["text"], to_text(data).encode("utf-8"))
    write_atomic(paths["json"], json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8"))
    return paths
