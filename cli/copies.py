"""The copies and getting them back: ``backup`` (the off-site copy), ``restore``, ``drill``, ``audit``
and ``init --adopt`` (taking over an archive whose mirror already exists)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from dangan.config.errors import EnvironmentProblem, UsageError
from dangan.config.messages import t
from dangan.config.schema import Config
from dangan.store.catalog import Catalog
from dangan.store.catalog.health import explaining
from dangan.store.layout import Layout
from dangan.daemon import logs
from dangan.daemon.alerts import Alerts
from dangan.daemon.service import Parts, ServiceLock
from dangan.backup.adopt import adopt as adopt_archive
from dangan.backup.audit import AuditResult, Auditor
from dangan.backup.drill import as_dicts, run_drill
from dangan.backup.keys import key_path
from dangan.backup.offsite import Offsite, offsite_fetch, run_limit
from dangan.backup.report import property_lines
from dangan.backup.sets import MediaSets
from dangan.backup.restore import (WORK_DIR, CatalogView, Item, Restore, RestoreReport, Target, check_only,
                                   mirror_fetch, newest_shipped, nothing_matched, parse_at, refuse_inside_roots,
                                   write_report)
from dangan.store.names import printable

from dangan.cli.common import setup
from dangan.cli.exits import EXIT_OK, EXIT_PROBLEMS


def adopt(args: argparse.Namespace) -> int:
    config, _, layout = setup(args)
    result = adopt_archive(config, layout)
    print(t("init.adopted", files=result.files, identical=result.identical, different=result.different,
            catalog=(t("init.catalog_from_mirror") if result.catalog_from_mirror else "")
            + (t("init.catalog_set_aside", path=result.set_aside) if result.set_aside else "")))
    return EXIT_OK


def backup(args: argparse.Namespace) -> int:
    config, path, layout = setup(args)
    logs.setup(config)
    # The copy ships what the catalog knows is on the mirror: bring both up to date first, unless
    # the running service keeps them so (the scheduled backup runs as its child).
    service_running = False if args.verify else not _catch_up(config, path, layout, args.format == "text")
    with layout.open_catalog() as catalog:
        offsite = Offsite(config, path, catalog, progress=sys.stdout.isatty() and args.format == "text",
                          lines=args.format == "text")
        if args.verify:
            result = offsite.verify()
            if args.format == "json":
                print(json.dumps(asdict(result), ensure_ascii=False, indent=2))
            elif result.ok:
                print(t("offsite.verify_ok", method=result.method, run=result.run_id, count=result.checked))
            else:
                print(t("offsite.verify_failed", method=result.method, run=result.run_id,
                        problems="\n".join(f"  - {p}" for p in result.problems)))
            if result.note and args.format != "json":
                print(result.note)  # how it was checked, when not as configured
            return EXIT_OK if result.ok else EXIT_PROBLEMS
        kind = "full" if args.full else "snapshot" if args.snapshot else "incremental"
        run = offsite.run(kind)
    if args.format == "json":
        print(json.dumps({**asdict(run), "manifest": str(run.manifest) if run.manifest else None},
                         ensure_ascii=False, indent=2))
    elif run.ok:
        print(t("offsite.run_ok" if not run.not_shipped else "offsite.run_partial",
                kind=t(f"manifest.kind.{kind}"), run=run.run_id, files=run.files, bytes=run.bytes,
                total=run.total_files, manifest=run.manifest))
    else:
        print(t("offsite.run_failed", run=run.run_id, reason=run.reason), file=sys.stderr)
    if run.ok and run.not_shipped:
        # Never "done" while records of the archive are missing from the copy: how many, and why.
        print(t("offsite.incomplete", count=run.not_shipped) + t(
            "offsite.incomplete_service" if service_running else "offsite.incomplete_alone"), file=sys.stderr)
    return EXIT_OK if run.ok and not run.not_shipped else EXIT_PROBLEMS


def _catch_up(config: Config, path: Path, layout: Layout, speak: bool) -> bool:
    """One reconcile (what `dangan mirror` does) when no service runs: files added or changed while
    it was stopped reach the catalog and the mirror, the copy's source. False when the running
    service holds the archive (it keeps both current; the backup then ships what it has copied)."""
    lock = ServiceLock(layout.state_dir)
    if not lock.acquire():
        return False
    try:
        parts = Parts.build(config, path, Alerts(), schedule=False)
        try:
            result = parts.reconciler.run()
        finally:
            parts.close()
    finally:
        lock.release()
    if speak and (result.arrived or result.gone or result.moved):
        print(t("offsite.caught_up", arrived=result.arrived, gone=result.gone, moved=result.moved))
    return True


def _sets_and_moment(args: argparse.Namespace) -> None:
    """``--at`` is a moment; with ``--from media`` an ``--at`` that names a folder or an image is one of
    the sets (the form ``restore --from media --at DIR``). At most one moment remains."""
    moments = []
    for value in args.at:
        if args.source == "media" and os.path.lexists(value):
            args.sets.append(value)
        else:
            moments.append(value)
    if len(moments) > 1:
        raise UsageError(t("cli.restore.one_moment", moments="、".join(moments)))
    args.at = moments[0] if moments else None


def restore(args: argparse.Namespace) -> int:
    _sets_and_moment(args)
    config, path, layout = setup(args)
    at = parse_at(args.at, config) if args.at else None
    only = check_only(args.only)
    target = Path(os.path.abspath(args.target))
    refuse_inside_roots(target, layout)
    media_sets = MediaSets(args.sets) if args.source == "media" else None
    try:
        return _restore(args, config, path, layout, target, at, only, media_sets)
    finally:
        if media_sets is not None:
            media_sets.close()


def _restore(args: argparse.Namespace, config: Config, path: Path, layout: Layout, target: Path,
             at: datetime | None, only: list[bytes], media_sets: MediaSets | None) -> int:
    sources = []
    if args.source == "mirror":
        view = CatalogView(layout)
        copy = layout.catalog_copy_path
        with explaining(view.path, None if view.path == copy else copy):  # damage: exit 2, in words
            items = view.items(at, only)
        sources.append(mirror_fetch(view, layout.mirror_root))
    elif media_sets is not None:
        view = media_sets.view(layout, target)
        with explaining(view.path, None):
            items = view.items(at, only)
        sources.append(media_sets.fetch(target / WORK_DIR / "objects"))
    else:
        view = None
    offsite = offsite_if_configured(config, path, required=args.source == "offsite")
    if args.source == "offsite":
        # A partner whose newest inventory is older than what the catalog knows was rolled back
        known = newest_shipped(layout, offsite.partner, run_limit(at) if at else "~")
        manifest = offsite.manifest_at(at, known, accept_older=args.accept_older)
        if known is not None and manifest.run_id < known:  # asked for with --accept-older
            print(t("restore.older_accepted", partner_run=manifest.run_id, known=known), file=sys.stderr)
        items = [Item(e.path, e.hash, e.size, e.mtime_ns) for e in manifest.entries if _only(e.path, only)]
    if offsite is not None:
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
            progress=args.format == "text").run(items, sources)
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


def offsite_if_configured(config: Config, path: Path, required: bool) -> Offsite | None:
    """The partner, when a remote and its key are there; a restore from the mirror then falls back to it."""
    if not required and (not config.offsite.remote or not key_path(path, config.offsite.key_file).exists()):
        return None
    return Offsite(config, path, None)


def drill(args: argparse.Namespace) -> int:
    config, path, layout = setup(args)
    offsite = offsite_if_configured(config, path, required=False)
    with layout.open_catalog() as catalog:
        results = run_drill(config, layout, catalog,
                            (lambda scratch: offsite_fetch(offsite, scratch)) if offsite else None,
                            offsite.partner if offsite else "")
    if args.format == "json":
        print(json.dumps(as_dicts(results), ensure_ascii=False, indent=2))
    else:
        for r in results:
            verdict = t("drill.ok") if r.ok else t("drill.failed", count=len(r.failures))
            print(t("drill.result", source=t(f"drill.source.{r.source}"), files=r.files, bytes=r.bytes,
                    seconds=r.seconds, verdict=verdict,
                    projected=r.projected_seconds if r.projected_seconds is not None else "-"))
            for failure in r.failures[:10]:
                print(f"  {failure}")
    return EXIT_OK if all(r.ok for r in results) else EXIT_PROBLEMS


def audit(args: argparse.Namespace) -> int:
    config, path, layout = setup(args)
    with layout.open_catalog() as catalog:
        auditor = Auditor(config, catalog, _offsite_verify(config, path, catalog),
                          key_path(path, config.offsite.key_file), progress=args.format == "text")
        result = auditor.run(repair=args.repair)
    if args.format == "json":
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(audit_text(result))
    return EXIT_PROBLEMS if result.problems else EXIT_OK


def _offsite_verify(config: Config, path: Path, catalog: Catalog) -> Callable[[], object] | None:
    """The partner's check for the audit, or None when no partner is configured. The partner is set
    up (two `rclone obscure` runs) only when an off-site run was shipped that can be verified."""
    if not config.offsite.remote or not key_path(path, config.offsite.key_file).exists():
        return None
    if catalog.offsite.last_good_run() is None:
        def nothing_shipped() -> object:
            raise EnvironmentProblem(t("offsite.nothing_to_verify"))

        return nothing_shipped
    return Offsite(config, path, catalog).verify


def audit_text(result: AuditResult) -> str:
    """The audit's result as the text ``dangan audit`` prints."""
    lines = [t("audit.summary", files=result.counts.get("primary", {}).get("confirmed", 0),
               seconds=round(result.seconds, 1), problems=result.problems)]
    lines += property_lines(result.properties())
    for finding in result.findings:
        lines.append(t("audit.finding", copy=t(f"copy.{finding.copy}"), kind=t(f"finding.{finding.kind}"),
                       path=printable(finding.to_dict()["path"]), detail=printable(finding.detail),
                       action=finding.action))
    return "\n".join(lines)
