"""``report``: the weekly integrity report written to a folder, and mailed with ``--send``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dangan.config.messages import t
from dangan.store.catalog import Catalog
from dangan.backup import mail
from dangan.backup import report as weekly

from dangan.cli.common import setup
from dangan.cli.exits import EXIT_OK, EXIT_PROBLEMS


def report(args: argparse.Namespace) -> int:
    config, _, layout = setup(args)
    out = Path(args.out) if args.out else layout.state_dir / "reports"
    with Catalog(layout.catalog_path) as catalog:
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
        if not args.send:
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
