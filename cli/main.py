"""The ``dangan`` command: ``main(argv) -> int``. It parses the command line, hands the command to its
family's module (archive: init, check, rules; service: run, mirror, status; copies: backup, restore,
drill, audit; report) and turns errors into exit codes in one table here."""

from __future__ import annotations

import argparse
import os
import re
import select
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import TextIO

from dangan.config import loader, words
from dangan.config.errors import CatalogError, ConfigError, DanganError, EnvironmentProblem, UsageError
from dangan.config.messages import language, set_language, t

from dangan.cli import archive, assessment, copies, report, service
from dangan.cli.exits import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE

__all__ = ["EXIT_CODES", "EXIT_INTERNAL", "EXIT_OK", "EXIT_PROBLEMS", "EXIT_USAGE", "VERSION", "main"]

VERSION = metadata.version("dangan")  # written once, in pyproject.toml

EXIT_CODES: dict[type[DanganError], int] = {
    UsageError: EXIT_USAGE,
    ConfigError: EXIT_USAGE,
    EnvironmentProblem: EXIT_USAGE,
    CatalogError: EXIT_USAGE,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one dangan command; return its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    set_language(_early_language(argv))
    parser = _build_parser()
    stdout = sys.stdout
    # `dangan init | head -1`: the command still does all its work and ends with its own exit code; what
    # it prints after the reader went away is dropped, as Unix tools (ended by SIGPIPE) drop it.
    sys.stdout = _ReaderMayGo(stdout)
    try:
        args = parser.parse_args(argv)
        if args.handler is None:
            parser.print_help()
            return EXIT_USAGE
        code = args.handler(args)
        sys.stdout.flush()  # here, not at exit: the interpreter's final flush would fail with a traceback
        return code
    except SystemExit as exc:  # --help and --version end here
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except DanganError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_CODES.get(type(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        print(t("error.interrupted"), file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        if exc.filename is None:
            print(t("error.internal", detail=f"{type(exc).__name__}: {exc}"), file=sys.stderr)
            return EXIT_INTERNAL
        # A file or folder the command could not use: the environment's problem, said in words.
        print(t("error.os", path=exc.filename, reason=words.os_error(exc)), file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the promise: never a traceback
        print(t("error.internal", detail=f"{type(exc).__name__}: {exc}"), file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        sys.stdout = stdout


class _ReaderMayGo:
    """Standard output that turns into /dev/null once the reader of a pipe has gone (EPIPE), so that
    neither a print nor the interpreter's final flush raises BrokenPipeError. Any other error, and a
    broken pipe that is not our output's (a child's, a socket's), still raises."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError as exc:
            self._silence(exc)
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError as exc:
            self._silence(exc)

    def _silence(self, exc: BrokenPipeError) -> None:
        if not _reader_gone(self._stream):
            raise exc
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)
        try:
            self._stream.flush()  # what was left in the buffer now goes to /dev/null
        except BrokenPipeError:
            pass

    def __getattr__(self, name: str) -> object:  # isatty, fileno, encoding … of the real stream
        return getattr(self._stream, name)


def _reader_gone(stream: object) -> bool:
    """True when ``stream`` is a pipe or socket whose reading end was closed (poll reports an error)."""
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False  # not a real file (a test's capture): nothing of ours to silence
    poller = select.poll()
    poller.register(fd, 0)  # POLLERR/POLLHUP are always reported
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


# -- parser ---------------------------------------------------------------------------------
class _Formatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):  # noqa: ANN001
        super().add_usage(usage, actions, groups, t("cli.usage_prefix") if prefix is None else prefix)


# argparse's own sentences, for the Chinese reader.
_ARGPARSE_ZH = [
    (r"the following arguments are required: ", "缺少必需的参数："),
    (r"unrecognized arguments: ", "无法识别的参数："),
    (r"argument (\S+): invalid choice: (.+?) \(choose from (.+)\)", r"参数 \1 的值 \2 无效（可选：\3）"),
    (r"argument (\S+): expected one argument", r"参数 \1 需要一个值"),
    (r"argument (\S+): not allowed with argument (\S+)", r"参数 \1 不能与 \2 同时使用"),
    (r"argument (\S+): expected at least one argument", r"参数 \1 至少需要一个值"),
    (r"argument (\S+): expected at most one argument", r"参数 \1 最多只能有一个值"),
    (r"argument (\S+): invalid (\S+) value: (.+)", r"参数 \1 的值 \3 无效（应为 \2 类型）"),
    (r"argument (\S+): ignored explicit argument (.+)", r"参数 \1 不接受值 \2"),
    (r"one of the arguments (.+) is required", r"必须给出以下参数之一：\1"),
    (r"ambiguous option: (\S+) could match (.+)", r"选项 \1 有歧义，可能是：\2"),
    (r"argument (\S+): ", r"参数 \1："),
]


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = t("cli.positionals")
        self._optionals.title = t("cli.options")
        self.add_argument("-h", "--help", action="help", help=t("cli.help"))

    def error(self, message: str) -> None:  # type: ignore[override]
        if language() == "zh":
            for pattern, replacement in _ARGPARSE_ZH:
                message = re.sub(pattern, replacement, message)
        raise UsageError(f"{self.format_usage().rstrip()}\n{t('error.usage', detail=message)}")


def _build_parser() -> _Parser:
    parser = _Parser(prog="dangan", description=t("cli.description"))
    parser.add_argument("--version", action="version", version=f"dangan {VERSION}", help=t("cli.version"))
    parser.add_argument("--config", metavar="PATH", help=t("cli.config"))
    parser.set_defaults(handler=None)
    commands = parser.add_subparsers(title=t("cli.commands"), metavar="COMMAND", parser_class=_Parser)

    def command(name: str, handler: Callable[[argparse.Namespace], int] | None, help_key: str) -> _Parser:
        sub = commands.add_parser(name, help=t(help_key), description=t(help_key))
        # SUPPRESS: a --config given before the command is not overwritten by this default.
        sub.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=t("cli.config"))
        sub.set_defaults(handler=handler)
        return sub

    init = command("init", archive.init, "cli.init.help")
    init.add_argument("--archive-root", metavar="DIR", help=t("cli.init.archive_root"))
    init.add_argument("--mirror-root", metavar="DIR", help=t("cli.init.mirror_root"))
    init.add_argument("--state-dir", metavar="DIR", help=t("cli.init.state_dir"))
    init.add_argument("--offsite-remote", metavar="REMOTE", help=t("cli.init.offsite_remote"))
    init.add_argument("--force", action="store_true", help=t("cli.init.force"))
    init.add_argument("--adopt", action="store_true", help=t("cli.init.adopt"))

    check = command("check", archive.check, "cli.check.help")
    check.add_argument("--format", choices=("text", "json"), default="text", help=t("cli.check.format"))
    check.add_argument("paths", nargs="*", metavar="PATH", help=t("cli.check.paths"))

    command("rules", archive.rules, "cli.rules.help")
    backup = command("backup", copies.backup, "cli.backup.help")
    kind = backup.add_mutually_exclusive_group()
    kind.add_argument("--full", action="store_true", help=t("cli.backup.full"))
    kind.add_argument("--snapshot", action="store_true", help=t("cli.backup.snapshot"))
    kind.add_argument("--verify", action="store_true", help=t("cli.backup.verify"))
    backup.add_argument("--format", choices=("text", "json"), default="text", help=t("cli.check.format"))
    restore = command("restore", copies.restore, "cli.restore.help")
    restore.add_argument("--from", dest="source", choices=("mirror", "offsite"), required=True,
                         help=t("cli.restore.from"))
    restore.add_argument("--to", dest="target", metavar="DIR", required=True, help=t("cli.restore.to"))
    restore.add_argument("--at", metavar="DATETIME", help=t("cli.restore.at"))
    restore.add_argument("--only", metavar="PATH", nargs="+", action="extend", default=[],
                         help=t("cli.restore.only"))
    restore.add_argument("--dry-run", action="store_true", help=t("cli.restore.dry_run"))
    restore.add_argument("--overwrite", action="store_true", help=t("cli.restore.overwrite"))
    restore.add_argument("--accept-older", action="store_true", help=t("cli.restore.accept_older"))
    restore.add_argument("--format", choices=("text", "json"), default="text", help=t("cli.check.format"))
    audit = command("audit", copies.audit, "cli.audit.help")
    audit.add_argument("--repair", action="store_true", help=t("cli.audit.repair"))
    audit.add_argument("--format", choices=("text", "json"), default="text", help=t("cli.check.format"))
    weekly = command("report", report.report, "cli.report.help")
    weekly.add_argument("--out", metavar="DIR", help=t("cli.report.out"))
    weekly.add_argument("--send", action="store_true", help=t("cli.report.send"))
    weekly.add_argument("--digests", action="store_true", help=t("cli.report.digests"))
    weekly.add_argument("--department", metavar="DEPARTMENT", action="append", default=[],
                        help=t("cli.report.department"))
    drill = command("drill", copies.drill, "cli.drill.help")
    drill.add_argument("--format", choices=("text", "json"), default="text", help=t("cli.check.format"))
    command("run", service.run, "cli.run.help")
    mirror = command("mirror", service.mirror, "cli.mirror.help")
    mirror.add_argument("--confirm-deletes", action="store_true", help=t("cli.mirror.confirm"))
    state = command("status", service.status, "cli.status.help")
    state.add_argument("--format", choices=("text", "json"), default="text", help=t("cli.check.format"))
    # --- export assessment (issue 17.6, h-assess) --- the `export` parser belongs to cli/export.py
    # (issue 17.1-4); when both are merged, keep one `export` parser and add assessment to its kinds.
    export = command("export", None, "cli.export.help")  # a kind is required: without one, the help
    assessment.add_parser(export.add_subparsers(title=t("cli.commands"), metavar="KIND", parser_class=_Parser))
    # --- end export assessment ---
    return parser


def _early_language(argv: list[str]) -> str:
    """The config's language, peeked before parsing so that even --help speaks it."""
    config = None
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            config = argv[i + 1]
        elif arg.startswith("--config="):
            config = arg.split("=", 1)[1]
    return loader.peek_language(loader.resolve_path(config)) or "zh"

