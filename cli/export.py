"""``export``: the registers the regulations ask for (归档文件目录, 移交清册, 登记统计, 鉴定清单), one
subcommand each. Each subcommand has a parser builder and a maker in :data:`REGISTERS`; one more
register (the scorecard, ``export assessment``) is one more entry. The work is in ``dangan.registers``;
here only the options are read and the register is written where asked."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import NamedTuple

from dangan.config.errors import UsageError
from dangan.config.messages import t
from dangan.config.schema import Config
from dangan.registers import sheet
from dangan.registers.appraisal import appraisal
from dangan.registers.directory import Directory
from dangan.registers.sheet import Register
from dangan.registers.statistics import statistics
from dangan.registers.transfer import transfer
from dangan.store.catalog import Catalog

from dangan.cli import assessment
from dangan.cli.common import setup
from dangan.cli.exits import EXIT_OK, EXIT_USAGE

Maker = Callable[[Catalog, Config, argparse.Namespace], Register]


class Export(NamedTuple):
    """One ``dangan export`` subcommand: its help key, its own options, and what makes its register."""

    help_key: str
    options: Callable[[argparse.ArgumentParser], None]
    make: Maker


def build(parser: argparse.ArgumentParser, parser_class: type[argparse.ArgumentParser]) -> None:
    """The subcommands of ``dangan export`` under ``parser``; the scorecard (``assessment``, cli/assessment.py)
    brings its own options."""
    parser.set_defaults(handler=lambda args: usage(args, parser))
    subs = parser.add_subparsers(title=t("cli.commands"), metavar="REGISTER", parser_class=parser_class)
    for name, export in REGISTERS.items():
        sub = subs.add_parser(name, help=t(export.help_key), description=t(export.help_key))
        sub.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=t("cli.config"))
        sub.add_argument("--format", choices=sheet.FORMATS, help=t("cli.export.formats"))
        sub.add_argument("--out", metavar="FILE", help=t("cli.export.file"))
        export.options(sub)
        sub.set_defaults(handler=lambda args, make=export.make: run(args, make))
    assessment.add_parser(subs)


def usage(args: argparse.Namespace, parser: argparse.ArgumentParser | None = None) -> int:
    """``dangan export`` without a register: its help, exit 2."""
    if parser is not None:
        parser.print_help()
    return EXIT_USAGE


def run(args: argparse.Namespace, make: Maker) -> int:
    """Make one register and write it to ``--out`` (or, as JSON or HTML, to standard output)."""
    fmt = _format(args)
    config, _, layout = setup(args)
    department = getattr(args, "department", None)
    if department is not None and department not in config.departments:
        raise UsageError(t("export.unknown_department", department=department,
                           known="、".join(config.departments)))
    with layout.open_catalog() as catalog:
        register = make(catalog, config, args)
        if args.out:
            sheet.save(register, fmt, Path(args.out))
            print(t("export.written", path=args.out, format=fmt))
        else:
            sheet.write(register, fmt, _Text())
            sys.stdout.flush()
    return EXIT_OK


def _format(args: argparse.Namespace) -> str:
    """--format, else the --out file's extension, else JSON; xlsx and PDF need a file."""
    fmt = args.format
    if fmt is None and args.out:
        fmt = Path(args.out).suffix.lstrip(".").lower()
        if fmt == "htm":
            fmt = "html"
        if fmt not in sheet.FORMATS:
            raise UsageError(t("export.unknown_extension", path=args.out, formats=", ".join(sheet.FORMATS)))
    fmt = fmt or "json"
    if fmt in ("xlsx", "pdf") and not args.out:
        raise UsageError(t("export.needs_out", format=fmt))
    return fmt


class _Text:
    """A binary sink onto standard output's text stream (which knows a reader that went away)."""

    def write(self, data: bytes) -> int:
        sys.stdout.write(data.decode("utf-8"))
        return len(data)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(t("export.bad_day", value=value)) from None


def _department(parser: argparse.ArgumentParser, required: bool = False) -> None:
    parser.add_argument("--department", metavar="DEPT", required=required, help=t("cli.export.department"))


def _period(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="since", metavar="YYYY-MM-DD", type=_day, help=t("cli.export.since"))
    parser.add_argument("--to", dest="until", metavar="YYYY-MM-DD", type=_day, help=t("cli.export.until"))


# -- the registers ------------------------------------------------------------------------------
def _directory_options(parser: argparse.ArgumentParser) -> None:
    _department(parser)
    parser.add_argument("--category", metavar="CATEGORY", help=t("cli.export.category"))
    parser.add_argument("--year", metavar="YYYY", type=int, help=t("cli.export.year"))


def _directory(catalog: Catalog, config: Config, args: argparse.Namespace) -> Register:
    return Directory(catalog, config, department=args.department, category=args.category, year=args.year).register()


def _transfer_options(parser: argparse.ArgumentParser) -> None:
    _department(parser, required=True)
    _period(parser)
    parser.add_argument("--task", metavar="TASK", help=t("cli.export.task"))


def _transfer(catalog: Catalog, config: Config, args: argparse.Namespace) -> Register:
    if args.task is None and args.since is None and args.until is None:
        raise UsageError(t("export.transfer_scope"))
    return transfer(catalog, config, args.department, since=args.since, until=args.until, task=args.task)


def _statistics_options(parser: argparse.ArgumentParser) -> None:
    _department(parser)
    _period(parser)


def _statistics(catalog: Catalog, config: Config, args: argparse.Namespace) -> Register:
    return statistics(catalog, config, department=args.department, since=args.since, until=args.until)


def _appraisal(catalog: Catalog, config: Config, args: argparse.Namespace) -> Register:
    return appraisal(catalog, config, department=args.department)


REGISTERS: dict[str, Export] = {
    "directory": Export("cli.export.directory", _directory_options, _directory),
    "transfer": Export("cli.export.transfer", _transfer_options, _transfer),
    "statistics": Export("cli.export.statistics", _statistics_options, _statistics),
    "appraisal": Export("cli.export.appraisal", _department, _appraisal),
}
