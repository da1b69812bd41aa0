"""``export assessment``: the 过程考核 scorecard of every department for a period, as ``.xlsx``, a
printable HTML page or JSON (issue 17 item 6)."""

from __future__ import annotations

import argparse
from pathlib import Path

from dangan.config.messages import t
from dangan.registers import scoresheet
from dangan.registers.assessment import Period, assess
from dangan.store.atomic import write_atomic
from dangan.store.catalog import now

from dangan.cli.common import setup
from dangan.cli.exits import EXIT_OK

FORMATS = ("xlsx", "html", "json")


def add_parser(kinds: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """``dangan export assessment [--period P | --from D --to D] [--format xlsx|html|json] [--out FILE]``."""
    sub = kinds.add_parser("assessment", help=t("cli.export.assessment.help"),
                           description=t("cli.export.assessment.help"))
    sub.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=t("cli.config"))
    sub.add_argument("--period", metavar="PERIOD", help=t("cli.export.period"))
    sub.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help=t("cli.export.from"))
    sub.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help=t("cli.export.to"))
    sub.add_argument("--format", choices=FORMATS, default="xlsx", help=t("cli.export.format"))
    sub.add_argument("--out", metavar="FILE", help=t("cli.export.out"))
    sub.set_defaults(handler=export)
    return sub


def export(args: argparse.Namespace) -> int:
    config, _, layout = setup(args)
    period = Period.parse(config, args.period, args.start, args.end)
    with layout.open_catalog() as catalog:
        doc = assess(config, catalog, period, now()).to_json(config)
    if args.format == "json" and not args.out:
        print(scoresheet.to_json(doc))
        return EXIT_OK
    name = f"assessment-{period.first.isoformat()}-{period.last.isoformat()}.{args.format}"
    target = Path(args.out) if args.out else layout.state_dir / "exports" / name
    if target.is_dir():  # a folder given: the file goes into it, under its usual name
        target = target / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if args.format == "xlsx":
        scoresheet.write_xlsx(doc, target)
    else:
        text = scoresheet.to_html(doc) if args.format == "html" else scoresheet.to_json(doc)
        write_atomic(target, text.encode("utf-8"))
    print(t("assessment.written", path=target))
    return EXIT_OK
