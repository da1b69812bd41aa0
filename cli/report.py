"""``report``: the weekly integrity report written to a folder, and mailed with ``--send``; after it,
each department's digest of its own open findings (``--digests`` alone: only the digests)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dangan.config.messages import t
from dangan.config.schema import Config
from dangan.backup import digests, mail
from dangan.backup import report as weekly
from dangan.registers import digest
from dangan.store.catalog import Catalog, now

from dangan.cli.common import setup
from dangan.cli.exits import EXIT_OK, EXIT_PROBLEMS


def report(args: argparse.Namespace) -> int:
    config, _, layout = setup(args)
    out = Path(args.out) if args.out else layout.state_dir / "reports"
    with layout.open_catalog() as catalog:
        if args.digests:
            return _digests(config, catalog, args.department, out, args.send)
        code = _weekly(config, catalog, out, args.send)
        if args.send and config.report.department_contacts:
            # Weekly, after the report: each department's own findings to its own contacts.
            code = max(code, _digests(config, catalog, [], out, send=True))
    return code


def _weekly(config: Config, catalog: Catalog, out: Path, send: bool) -> int:
    try:
        data = weekly.Report(config, catalog).gather()
        paths = weekly.write(data, out)
    except Exception as exc:  # noqa: BLE001 - remembered: next week's report turns red for it
        with catalog.transaction():
            catalog.set_meta("report.last_error", f"{type(exc).__name__}: {exc}")
        raise
    with catalog.transaction():
        catalog.delete_meta("report.last_error")
    print(t("report.written", html=paths["html"], verdict=t(f"verdict.{data['verdict']}")))
    if not send:
        return EXIT_OK
    settings = config.report
    if not settings.recipients or not settings.smtp_host:
        print(t("report.no_recipients"))
        return EXIT_OK
    if settings.only_when_not_ok and data["verdict"] == weekly.OK:
        print(t("report.not_sent"))
        return EXIT_OK
    subject = f"[dangan] {t('report.title', week=data['week'])}：{t('verdict.' + data['verdict'])}"
    message = mail.build(settings, subject, weekly.to_text(data), weekly.to_html(data))
    try:
        mail.send(settings, message)
    except Exception as exc:  # noqa: BLE001 - shown in the next report
        error = f"{type(exc).__name__}: {exc}"
        with catalog.transaction():
            catalog.set_meta("report.last_send_error", error)
        print(t("report.send_failed", error=error), file=sys.stderr)
        return EXIT_PROBLEMS
    with catalog.transaction():
        catalog.delete_meta("report.last_send_error")
    print(t("report.sent", count=len(settings.recipients)))
    return EXIT_OK


def _digests(config: Config, catalog: Catalog, asked: list[str], out: Path, send: bool) -> int:
    """The department digests: mailed (``send``), else written to ``out`` for a preview. Exit 1 when
    any digest that should have gone out did not (no SMTP server, a failed send)."""
    departments = digest.departments_asked(config, asked)
    if not departments:
        print(t("digest.none_configured"))
        return EXIT_PROBLEMS if send else EXIT_OK
    generated = now()
    gathered = digest.gather(config, catalog, departments)
    if not send:
        digests.write(config, gathered, generated, out)
        print(t("digest.written", count=len(gathered), out=out))
        return EXIT_OK
    if not config.report.smtp_host:
        print(t("digest.no_smtp"), file=sys.stderr)
        return EXIT_PROBLEMS
    done = digests.send(config, gathered, generated)
    for department, contacts, count in done.sent:
        print(t("digest.sent", department=department, contacts=contacts, count=count))
    for department in done.empty:
        print(t("digest.empty", department=department))
    for department in done.no_contacts:
        print(t("digest.no_contacts", department=department))
    for department, error in done.failed:
        print(t("digest.failed", department=department, error=error), file=sys.stderr)
    return EXIT_PROBLEMS if done.failed or (asked and done.no_contacts) else EXIT_OK
