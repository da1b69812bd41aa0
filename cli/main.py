"""The ``dangan`` command. ``main(argv) -> int``; errors become exit codes in one table here."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from dangan.config import loader
from dangan.config.errors import CatalogError, ConfigError, DanganError, EnvironmentProblem, UsageError
from dangan.config.messages import set_language, t
from dangan.config.rule_ids import RULE_IDS
from dangan.config.schema import Config

from dangan.store.atomic import write_atomic
from dangan.store.catalog import Catalog, now
from dangan.store.layout import Layout
from dangan.store.names import printable, shown
from dangan.backup.keys import OffsiteKey, key_path

VERSION = "0.1.0"

EXIT_OK = 0
EXIT_PROBLEMS = 1  # the check found error-severity violations
EXIT_USAGE = 2  # command line, config or environment not usable
EXIT_INTERNAL = 3  # a bug: reported in one line, never as a traceback

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
    try:
        args = parser.parse_args(argv)
        if args.handler is None:
            parser.print_help()
            return EXIT_USAGE
        return args.handler(args)
    except SystemExit as exc:  # --help and --version end here
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except DanganError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_CODES.get(type(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        print(t("error.interrupted"), file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the promise: never a traceback
        print(t("error.internal", detail=f"{type(exc).__name__}: {exc}"), file=sys.stderr)
        return EXIT_INTERNAL


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
        from dangan.config.messages import language

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

    def command(name: str, handler: Callable[[argparse.Namespace], int], help_key: str) -> _Parser:
        sub = commands.add_parser(name, help=t(help_key), description=t(help_key))
        # SUPPRESS: a --config given before the command is not overwritten by this default.
        sub.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=t("cli.config"))
        sub.set_defaults(handler=handler)
        return sub

    init = command("init", _cmd_init, "cli.init.help")
    init.add_argument("--archive-root", metavar="DIR", help=t("cli.init.archive_root"))
    init.add_argument("--mirror-root", metavar="DIR", help=t("cli.init.mirror_root"))
    init.add_argument("--state-dir", metavar="DIR", help=t("cli.init.state_dir"))
    init.add_argument("--offsite-remote", metavar="REMOTE", help=t("cli.init.offsite_remote"))
    init.add_argument("--force", action="store_true", help=t("cli.init.force"))
    init.add_argument("--adopt", action="store_true", help=t("cli.init.adopt"))

    check = command("check", _cmd_check, "cli.check.help")
    check.add_argument("--format", choices=("text", "json"), default="text", help=t("cli.check.format"))
    check.add_argument("paths", nargs="*", metavar="PATH", help=t("cli.check.paths"))

    command("rules", _cmd_rules, "cli.rules.help")
    backup = command("backup", _cmd_backup, "cli.backup.help")
    kind = backup.add_mutually_exclusive_group()
    kind.add_argument("--full", action="store_true", help=t("cli.backup.full"))
    kind.add_argument("--snapshot", action="store_true", help=t("cli.backup.snapshot"))
    kind.add_argument("--verify", action="store_true", help=t("cli.backup.verify"))
    backup.add_argument("--format", choices=("text", "json"), default="text", help=t("cli.check.format"))
    restore = command("restore", _cmd_restore, "cli.restore.help")
    restore.add_argument("--from", dest="source", choices=("mirror", "offsite"), required=True,
                         help=t("cli.restore.from"))
    restore.add_argument("--to", dest="target", metavar="DIR", required=True, help=t("cli.restore.to"))
    restore.add_argument("--at", metavar="DATETIME", help=t("cli.restore.at"))
    restore.add_argument("--only", metavar="PATH", nargs="+", action="extend", default=[],
                         help=t("cli.restore.only"))
    restore.add_argument("--dry-run", action="store_true", help=t("cli.restore.dry_run"))
    restore.add_argument("--overwrite", action="store_true", help=t("cli.restore.overwrite"))
    restore.add_argument("--format", choices=("text", "json"), default="text", help=t("cli.check.format"))
    audit = command("audit", _cmd_audit, "cli.audit.help")
    audit.add_argument("--repair", action="store_true", help=t("cli.audit.repair"))
    audit.add_argument("--format", choices=("text", "json"), default="text", help=t("cli.check.format"))
    report = command("report", _cmd_report, "cli.report.help")
    report.add_argument("--out", metavar="DIR", help=t("cli.report.out"))
    report.add_argument("--send", action="store_true", help=t("cli.report.send"))
    drill = command("drill", _cmd_drill, "cli.drill.help")
    drill.add_argument("--format", choices=("text", "json"), default="text", help=t("cli.check.format"))
    command("run", _cmd_run, "cli.run.help")
    mirror = command("mirror", _cmd_mirror, "cli.mirror.help")
    mirror.add_argument("--confirm-deletes", action="store_true", help=t("cli.mirror.confirm"))
    state = command("status", _cmd_status, "cli.status.help")
    state.add_argument("--format", choices=("text", "json"), default="text", help=t("cli.check.format"))
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


def _load_config(args: argparse.Namespace) -> Config:
    config = loader.load(loader.resolve_path(args.config))
    set_language(config.language)
    return config


# -- commands -------------------------------------------------------------------------------
def _cmd_init(args: argparse.Namespace) -> int:
    path = loader.resolve_path(args.config)
    if args.adopt and path.exists() and not args.force:
        return _adopt(args)
    missing = [flag for flag, value in (("--archive-root", args.archive_root), ("--mirror-root", args.mirror_root),
                                        ("--state-dir", args.state_dir)) if not value]
    if missing:
        raise UsageError(t("init.missing", flags=", ".join(missing)))
    if path.exists() and not args.force:
        raise UsageError(t("init.exists", path=path))
    archive, mirror, state = (os.path.abspath(p) for p in (args.archive_root, args.mirror_root, args.state_dir))
    remote = args.offsite_remote or os.path.join(state, "offsite")
    text = _fill_template(loader.default_text(), archive_root=archive, mirror_root=mirror, state_dir=state,
                          remote=remote)
    config = loader.parse(text, path)  # the same validation as every later load
    set_language(config.language)
    Layout.of(config).create(config.departments)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode("utf-8"), mode=0o600)
    with Catalog(Layout.of(config).catalog_path):
        pass  # created and migrated now, so that a permission problem shows at init, not later
    if os.path.isabs(remote):
        os.makedirs(remote, mode=0o700, exist_ok=True)  # the embedded default: a local, still encrypted copy
    print(t("init.done", config=path, archive=archive, mirror=mirror, state=state, offsite=remote))
    key_file = key_path(path, config.offsite.key_file)
    if not key_file.exists():  # never replace a key: the partner's copy is sealed with it
        key = OffsiteKey.generate()
        key.save(key_file)
        print(key.recovery_sheet(key_file, remote))
    return _adopt(args) if args.adopt else EXIT_OK


def _adopt(args: argparse.Namespace) -> int:
    from dangan.backup.adopt import adopt

    config = _load_config(args)
    result = adopt(config)
    print(t("init.adopted", files=result.files, identical=result.identical, different=result.different,
            catalog=t("init.catalog_from_mirror") if result.catalog_from_mirror else ""))
    return EXIT_OK


def _fill_template(text: str, **values: str) -> str:
    """Put the admin's folders into the commented default, keeping every comment."""
    for key, value in values.items():
        # JSON strings are valid YAML double-quoted scalars: any path survives quoting.
        text, count = re.subn(rf"(?m)^(\s*{key}:)\s.*$", lambda m: f"{m.group(1)} {json.dumps(value, ensure_ascii=False)}", text, count=1)
        assert count == 1, f"default.yaml lost its {key} key"
    return text


def _cmd_check(args: argparse.Namespace) -> int:
    from dangan.rules.check import Checker
    from dangan.rules.findings import to_json, to_text

    config = _load_config(args)
    layout = Layout.of(config)
    layout.require_archive()
    targets = [_relative_target(p, layout.archive_root) for p in args.paths]
    with Catalog(layout.catalog_path) as catalog:
        result = Checker(config, catalog).run(targets or None)
    print(to_json(result) if args.format == "json" else to_text(result))
    return EXIT_PROBLEMS if result.errors else EXIT_OK


def _relative_target(arg: str, root: Path) -> bytes:
    """A PATH argument as a path relative to the archive root, refusing anything outside it."""
    absolute = os.fsencode(os.path.abspath(arg))  # normalises ".." without following symlinks
    base = os.fsencode(os.path.normpath(root))
    if not os.path.lexists(absolute):
        raise UsageError(t("archive.missing_path", path=arg))
    if absolute == base:
        return b""
    if not absolute.startswith(base + b"/"):
        raise UsageError(t("archive.outside", path=arg, root=root))
    return absolute[len(base) + 1 :]


def _cmd_rules(args: argparse.Namespace) -> int:
    from dangan.rules.rulebook import DEFAULT_SEVERITY, rule_title

    path = loader.resolve_path(args.config)
    config = _load_config(args) if path.exists() else loader.parse(loader.default_text(), path)
    print(t("rules.header"))
    for rule in RULE_IDS:
        severity = config.rules.severity.get(rule, DEFAULT_SEVERITY[rule])
        state = "" if rule not in config.rules.disabled else " (off)"
        print(f"{rule} | {t('severity.' + severity)}{state} | {rule_title(rule, config)}")
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from dangan.backup.keys import require_private

    from dangan.daemon.service import run

    path = loader.resolve_path(args.config)
    config = _load_config(args)
    # The service refuses secrets others can read: the config names the partner and the SMTP
    # account, the key opens the partner's copy.
    require_private(path)
    if config.offsite.remote:
        require_private(key_path(path, config.offsite.key_file))
    return run(path, config)


def _cmd_mirror(args: argparse.Namespace) -> int:
    """One reconcile in the foreground (what the service does at start), or confirm held deletions."""
    from dangan.daemon import logs
    from dangan.daemon.alerts import Alerts
    from dangan.daemon.guard import CONFIRM
    from dangan.daemon.service import Parts, ServiceLock

    config = _load_config(args)
    logs.setup(config)
    layout = Layout.of(config)
    lock = ServiceLock(layout.state_dir)
    if not lock.acquire():
        if not args.confirm_deletes:
            raise EnvironmentProblem(t("mirror.service_running"))
        # The running service owns the mirror: leave it the request, it applies it within a second.
        with Catalog(layout.catalog_path) as catalog, catalog.transaction():
            catalog.set_meta(CONFIRM, now())
        print(t("mirror.confirm_requested"))
        return EXIT_OK
    alerts = Alerts()
    try:
        parts = Parts.build(config, loader.resolve_path(args.config), alerts, schedule=False)
        try:
            result = parts.reconciler.run()
            applied = parts.guard.tick(confirm=args.confirm_deletes)
            held = parts.guard.held()
            unmirrored = len(parts.catalog.unmirrored())
        finally:
            parts.close()
    finally:
        lock.release()
    print(t("mirror.done", files=result.files, arrived=result.arrived, gone=result.gone, moved=result.moved,
            applied=result.removals_applied + applied, seconds=round(result.seconds, 2)))
    if held:
        print(t("status.held", count=held["count"], since=held["since"]))
    unreadable = [n for n in alerts.notes if n["kind"] == "unreadable"]
    for note in unreadable:
        print(t("mirror.unreadable", path=printable(str(note["path"])),
                reason=printable(str(note["reason"]))))
    for folder in result.unlisted:
        print(t("mirror.unlisted", path=shown(folder) or "."))
    problems = bool(unreadable or result.unlisted)  # the mirror holds older copies of these
    if unmirrored or held or not parts.mirror.available():
        print(t("mirror.incomplete", count=unmirrored))
        problems = True
    return EXIT_PROBLEMS if problems else EXIT_OK


def _cmd_status(args: argparse.Namespace) -> int:
    from dangan.store import status

    config = _load_config(args)
    layout = Layout.of(config)
    with Catalog(layout.catalog_path) as catalog:
        state = status.gather(layout, catalog)
    print(json.dumps(state, ensure_ascii=False, indent=2) if args.format == "json" else status.render(state))
    return EXIT_OK


def _cmd_backup(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from dangan.backup.offsite import Offsite

    from dangan.daemon import logs

    config = _load_config(args)
    logs.setup(config)
    path = loader.resolve_path(args.config)
    with Catalog(Layout.of(config).catalog_path) as catalog:
        offsite = Offsite(config, path, catalog, progress=sys.stdout.isatty() and args.format == "text")
        if args.verify:
            result = offsite.verify()
            if args.format == "json":
                print(json.dumps(asdict(result), ensure_ascii=False, indent=2))
            elif result.ok:
                print(t("offsite.verify_ok", method=result.method, run=result.run_id, count=result.checked))
            else:
                print(t("offsite.verify_failed", method=result.method, run=result.run_id,
                        problems="\n".join(f"  - {p}" for p in result.problems)))
            return EXIT_OK if result.ok else EXIT_PROBLEMS
        kind = "full" if args.full else "snapshot" if args.snapshot else "incremental"
        run = offsite.run(kind)
    if args.format == "json":
        print(json.dumps({**asdict(run), "manifest": str(run.manifest) if run.manifest else None},
                         ensure_ascii=False, indent=2))
    elif run.ok:
        print(t("offsite.run_ok", kind=t(f"manifest.kind.{kind}"), run=run.run_id, files=run.files, bytes=run.bytes,
                total=run.total_files, manifest=run.manifest))
        if run.not_shipped:
            print(t("offsite.not_shipped", count=run.not_shipped))
    else:
        print(t("offsite.run_failed", run=run.run_id, reason=run.reason), file=sys.stderr)
    return EXIT_OK if run.ok else EXIT_PROBLEMS


def _cmd_restore(args: argparse.Namespace) -> int:
    from dangan.backup.restore import CatalogView, Restore, RestoreReport, Target, check_only, mirror_fetch, parse_at, write_report
    from dangan.backup.restore import nothing_matched, refuse_inside_roots

    config = _load_config(args)
    path = loader.resolve_path(args.config)
    layout = Layout.of(config)
    at = parse_at(args.at, config) if args.at else None
    only = check_only(args.only)
    target = Path(os.path.abspath(args.target))
    refuse_inside_roots(target, layout)
    sources = []
    if args.source == "mirror":
        view = CatalogView(layout)
        items = view.items(at, only)
        sources.append(mirror_fetch(view, layout.mirror_root))
    else:
        view = None
    offsite = _offsite_if_configured(config, path, required=args.source == "offsite")
    if args.source == "offsite":
        manifest = offsite.manifest_at(at)
        from dangan.backup.restore import Item

        items = [Item(e.path, e.hash, e.size, e.mtime_ns) for e in manifest.entries if _only(e.path, only)]
    if offsite is not None:
        from dangan.backup.offsite import offsite_fetch

        sources.append(offsite_fetch(offsite, target / ".dangan-restore" / "objects"))
    if not items:  # --only a path that is not there, --at before the first record: not "all restored"
        print(nothing_matched(only, args.at), file=sys.stderr)
        return EXIT_PROBLEMS
    if args.dry_run:
        print(t("restore.plan", count=len(items), bytes=sum(max(i.size, 0) for i in items)))
        return EXIT_OK
    report = RestoreReport(args.source, str(target), args.at)
    Restore(Target(target, config.hash_algorithm, args.overwrite,
                   like=layout.mirror_root if args.source == "mirror" else None), report,
            progress=sys.stderr.isatty() and args.format == "text").run(items, sources)
    if view is not None:
        view.close()
    if report.ok:  # downloaded objects are copies of what is now in place
        shutil.rmtree(target / ".dangan-restore" / "objects", ignore_errors=True)
    written = write_report(target, report)
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if args.format == "json"
          else report.to_text() + "\n" + t("restore.report_at", path=written))
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _only(path: bytes, only: list[bytes]) -> bool:
    return not only or any(path == p or path.startswith(p + b"/") for p in only)


def _offsite_if_configured(config: Config, path: Path, required: bool):
    """The partner, when a remote and its key are there; a restore from the mirror then falls back to it."""
    from dangan.backup.offsite import Offsite

    if not required and (not config.offsite.remote or not key_path(path, config.offsite.key_file).exists()):
        return None
    return Offsite(config, path, None)


def _cmd_drill(args: argparse.Namespace) -> int:
    from dangan.backup.offsite import offsite_fetch

    from dangan.backup.drill import as_dicts, run_drill

    config = _load_config(args)
    path = loader.resolve_path(args.config)
    offsite = _offsite_if_configured(config, path, required=False)
    with Catalog(Layout.of(config).catalog_path) as catalog:
        results = run_drill(config, catalog, (lambda scratch: offsite_fetch(offsite, scratch)) if offsite else None)
    if args.format == "json":
        print(json.dumps(as_dicts(results), ensure_ascii=False, indent=2))
    else:
        for r in results:
            print(t("drill.result", source=t(f"drill.source.{r.source}"), files=r.files, bytes=r.bytes,
                    seconds=r.seconds, verdict=t("drill.ok") if r.ok else t("drill.failed", count=len(r.failures)),
                    projected=r.projected_seconds if r.projected_seconds is not None else "-"))
            for failure in r.failures[:10]:
                print(f"  {failure}")
    return EXIT_OK if all(r.ok for r in results) else EXIT_PROBLEMS


def _cmd_audit(args: argparse.Namespace) -> int:
    from dangan.backup.audit import Auditor

    config = _load_config(args)
    path = loader.resolve_path(args.config)
    with Catalog(Layout.of(config).catalog_path) as catalog:
        auditor = Auditor(config, catalog, _offsite_verify(config, path, catalog),
                          key_path(path, config.offsite.key_file), progress=sys.stderr.isatty())
        result = auditor.run(repair=args.repair)
    if args.format == "json":
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(audit_text(result))
    return EXIT_PROBLEMS if result.problems else EXIT_OK


def _offsite_verify(config: Config, path: Path, catalog: Catalog) -> Callable[[], object] | None:
    """The partner's check for the audit, or None when no partner is configured. The partner is set
    up (two `rclone obscure` runs) only when an off-site run was shipped that can be verified."""
    from dangan.backup.offsite import Offsite

    if not config.offsite.remote or not key_path(path, config.offsite.key_file).exists():
        return None
    if catalog.offsite.last_good_run() is None:
        def nothing_shipped() -> object:
            raise EnvironmentProblem(t("offsite.nothing_to_verify"))

        return nothing_shipped
    return Offsite(config, path, catalog).verify


def audit_text(result) -> str:
    from dangan.backup.report import property_lines

    lines = [t("audit.summary", files=result.counts.get("primary", {}).get("confirmed", 0),
               seconds=round(result.seconds, 1), problems=result.problems)]
    lines += property_lines(result.properties())
    for finding in result.findings:
        lines.append(t("audit.finding", copy=t(f"copy.{finding.copy}"), kind=t(f"finding.{finding.kind}"),
                       path=printable(finding.to_dict()["path"]), detail=printable(finding.detail),
                       action=finding.action))
    return "\n".join(lines)


def _cmd_report(args: argparse.Namespace) -> int:
    from dangan.backup import mail
    from dangan.backup import report

    config = _load_config(args)
    layout = Layout.of(config)
    out = Path(args.out) if args.out else layout.state_dir / "reports"
    with Catalog(layout.catalog_path) as catalog:
        try:
            data = report.Report(config, catalog).gather()
            paths = report.write(data, out)
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
        if settings.only_when_not_ok and data["verdict"] == report.OK:
            print(t("report.not_sent"))
            return EXIT_OK
        subject = f"[dangan] {t('report.title', week=data['week'])}：{t('verdict.' + data['verdict'])}"
        message = mail.build(settings, subject, report.to_text(data), report.to_html(data))
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
