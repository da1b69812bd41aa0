"""Findings reach the department responsible ("责任到人"): each department's own open findings, oldest
first, with the days each has been open and what to do — and only its own. The weekly job mails one
digest per department to the contacts ``report.department_contacts`` names; nothing goes to a
department with nothing open, unless ``report.digest_when_empty`` asks for it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from dangan.config.errors import UsageError
from dangan.config.messages import t
from dangan.config.schema import Config

from dangan.registers.pages import render
from dangan.rules.rulebook import Violation, rule_title
from dangan.store.catalog import Catalog
from dangan.store.clock import local
from dangan.store.names import printable, shown


@dataclass(frozen=True)
class DigestItem:
    """One open finding as the department reads it."""

    path: str  # shown: readable and free of control characters
    rule: str
    title: str
    severity: str
    first_seen: str  # catalog time
    days_open: int
    message: str
    hint: str


@dataclass(frozen=True)
class Digest:
    """One department's open findings, oldest first, and who receives them."""

    department: str
    contacts: list[str]
    items: list[DigestItem]


def departments_asked(config: Config, asked: list[str] | None) -> list[str]:
    """The departments to digest: those asked for (each must be a configured department), else every
    department with contacts."""
    if not asked:
        return list(config.report.department_contacts)
    unknown = [name for name in asked if name not in config.departments]
    if unknown:
        raise UsageError(t("digest.unknown_department", names="、".join(unknown)))
    return asked


def gather(config: Config, catalog: Catalog, departments: list[str]) -> list[Digest]:
    """The digest of each of ``departments``, built from the catalog's open findings below its folder."""
    today = datetime.now(timezone.utc)
    out = []
    for department in departments:
        found = catalog.open_violations([department.encode("utf-8")]).values()
        items = []
        for stored in sorted(found, key=lambda s: (s.first_seen, s.path, s.rule)):
            args = _private(json.loads(stored.detail), department, config.departments)
            violation = Violation(stored.path, stored.rule, stored.severity, args)
            items.append(DigestItem(
                shown(stored.path), stored.rule, rule_title(stored.rule, config), stored.severity,
                stored.first_seen, (today - datetime.fromisoformat(stored.first_seen)).days,
                printable(violation.message), printable(violation.hint)))
        out.append(Digest(department, list(config.report.department_contacts.get(department, [])), items))
    return out


def _private(args: dict, department: str, departments: list[str]) -> dict:
    """A finding's arguments with every other department's path replaced by words: a duplicate's
    first copy may lie in another department, whose file names are not this department's to read."""
    others = tuple(f"{name}/" for name in departments if name != department)

    def elsewhere(key: str, value: object) -> bool:
        # "other" is always a path (the duplicate's first copy): outside this department, even in a
        # folder that is no department, it is not shown
        return isinstance(value, str) and (value.startswith(others) or (
            key == "other" and not value.startswith(f"{department}/")))

    return {key: t("digest.elsewhere") if elsewhere(key, value) else value for key, value in args.items()}


def subject(config: Config, digest: Digest) -> str:
    return t("digest.subject", school=config.school or "dangan", department=digest.department,
             count=len(digest.items))


def _heading(config: Config, digest: Digest, generated: str) -> dict[str, str]:
    return {"title": t("digest.title", department=digest.department),
            "school": config.school or t("assessment.no_school"),
            "generated": t("assessment.generated", at=local(generated, config, seconds=True)),
            "summary": t("digest.summary", count=len(digest.items)) if digest.items else t("digest.nothing")}


def to_text(config: Config, digest: Digest, generated: str) -> str:
    head = _heading(config, digest, generated)
    lines = [f"{head['school']} {head['title']}", head["generated"], "", head["summary"]]
    for number, item in enumerate(digest.items, 1):
        lines += ["", t("digest.item", number=number, path=item.path, days=item.days_open,
                        since=local(item.first_seen, config), title=item.title, rule=item.rule,
                        severity=t(f"severity.{item.severity}")),
                  f"   {item.message}", f"   {t('check.hint')}{item.hint}"]
    return "\n".join([*lines, "", t("digest.footer")]) + "\n"


def to_html(config: Config, digest: Digest, generated: str) -> str:
    items = [{**item.__dict__, "since": local(item.first_seen, config),
              "severity_text": t(f"severity.{item.severity}")} for item in digest.items]
    return render("digest.html.j2", head=_heading(config, digest, generated), items=items,
                  footer=t("digest.footer"))
