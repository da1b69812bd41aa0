"""The scorecard's forms, all drawn from its data (``Scorecard.to_json``) through one view
(:func:`view`): plain text, a printable HTML page (the same table the weekly report shows), an
``.xlsx`` workbook (openpyxl, write-only: it streams) and JSON. Every form carries the school, the
period, the local moment it was made and the formula."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from dangan.config.messages import t

from dangan.registers.pages import render
from dangan.store.atomic import write_atomic
from dangan.store.clock import local
from dangan.store.names import printable

BAR_WIDTH = 80.0  # px of a score of 100
COLUMNS = ("department", "records", "filed", "open", "open_rules", "fixed", "median", "clean", "on_time",
           "described", "score")
PERCENT_COLUMNS = {7, 8, 9}  # the rates, as percentages in the workbook


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def view(doc: dict[str, Any]) -> dict[str, Any]:
    """What every form shows, in words and numbers ready to print (no markup)."""
    rows = []
    for row in doc["departments"]:
        records, score = row["records"], row["score"]
        rows.append({
            "department": printable(row["department"]), "records": records, "filed": row["filed"],
            "open": row["open_findings"],
            "open_per_100": f"{100 * row['open_findings'] / records:.1f}" if records else "—",
            "open_rules": [{"title": doc["rule_titles"].get(rule, rule), "rule": rule, "count": count}
                           for rule, count in row["open_by_rule"].items()],
            "fixed": row["fixed"],
            "median": "—" if row["median_days_to_fix"] is None else f"{row['median_days_to_fix']:g}",
            "clean": _percent(row["clean_rate"]), "clean_of": f"{records - row['with_findings']}/{records}",
            "on_time": _percent(row["on_time_rate"]), "on_time_of": f"{row['on_time']}/{row['activity']}",
            "described": _percent(row["described_rate"]),
            "described_of": f"{row['described']}/{row['photo_folders']}",
            "score": "—" if score is None else f"{score:.1f}",
            "bar": 0.0 if score is None else round(BAR_WIDTH * score / 100, 1),
        })
    period = f"{doc['period']['from']} — {doc['period']['to']}"
    return {
        "title": t("assessment.title"),
        "school": printable(doc["school"]) or t("assessment.no_school"),
        "period": t("assessment.period", period=period),
        "period_label": period,
        "generated": t("assessment.generated", at=local(doc["generated"], doc["timezone"], seconds=True)),
        "columns": [t(f"assessment.col.{c}") for c in COLUMNS],
        "rows": rows,
        "bar_width": BAR_WIDTH,
        "formula": t("assessment.formula", **doc["weights"]),
    }


def text_lines(v: dict[str, Any]) -> list[str]:
    """The table as lines of text, one per department, and the formula under it."""
    lines = []
    for row in v["rows"]:
        rules = t("assessment.and").join(f"{r['title']} {r['count']}" for r in row["open_rules"]) or t("report.none")
        lines.append(t("assessment.text_line", rules=rules, **{k: row[k] for k in (
            "department", "records", "filed", "open", "open_per_100", "fixed", "median", "clean", "clean_of",
            "on_time", "on_time_of", "described", "described_of", "score")}))
    return [*lines, "", v["formula"]]


def to_text(doc: dict[str, Any]) -> str:
    v = view(doc)
    return "\n".join([f"{v['school']} {v['title']}", v["period"], v["generated"], "", *text_lines(v)]) + "\n"


def to_html(doc: dict[str, Any]) -> str:
    return render("assessment.html.j2", v=view(doc))


def to_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2)


def write_xlsx(doc: dict[str, Any], target: Path) -> None:
    """The scorecard as a workbook: a title block, one row per department with numbers as numbers
    (rates as percentages), the formula under the table. Write-only mode; written atomically."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    v = view(doc)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(t("assessment.sheet"))
    bold = Font(bold=True)

    def cells(values: list[Any], strong: bool = False, percent: set[int] = frozenset()) -> list[WriteOnlyCell]:
        out = []
        for i, value in enumerate(values):
            cell = WriteOnlyCell(sheet, value=value)
            if i in percent and value is not None:
                cell.number_format = "0.0%"
            if strong:
                cell.font = bold
            out.append(cell)
        return out

    sheet.append(cells([f"{v['school']} {v['title']}"], strong=True))
    sheet.append([v["period"]])
    sheet.append([v["generated"]])
    sheet.append([])
    sheet.append(cells(v["columns"], strong=True))
    for row, shown in zip(doc["departments"], v["rows"]):
        rules = "；".join(f"{r['title']}（{r['rule']}）{r['count']}" for r in shown["open_rules"])
        sheet.append(cells([row["department"], row["records"], row["filed"], row["open_findings"], rules,
                            row["fixed"], row["median_days_to_fix"], row["clean_rate"], row["on_time_rate"],
                            row["described_rate"], row["score"]], percent=PERCENT_COLUMNS))
    sheet.append([])
    sheet.append([v["formula"]])
    out = io.BytesIO()
    book.save(out)
    write_atomic(target, out.getvalue())
