"""The live service's commands: ``run`` (the service in the foreground), ``mirror`` (one reconcile,
or confirming held deletions) and ``status`` (what the service and the catalog say)."""

from __future__ import annotations

import argparse
import json

from dangan.config.errors import EnvironmentProblem
from dangan.config.messages import t
from dangan.store import status as status_file
from dangan.store.catalog import now
from dangan.store.catalog.health import explaining
from dangan.store.clock import local
from dangan.store.names import printable, shown
from dangan.daemon import logs, service
from dangan.daemon.alerts import Alerts
from dangan.daemon.guard import CONFIRM
from dangan.daemon.service import Parts, ServiceLock
from dangan.backup.keys import key_path, require_private

from dangan.cli.common import setup
from dangan.cli.exits import EXIT_OK, EXIT_PROBLEMS


def run(args: argparse.Namespace) -> int:
    config, path, _ = setup(args)
    # The service refuses secrets others can read: the config names the partner and the SMTP
    # account, the key opens the partner's copy.
    require_private(path)
    if config.offsite.remote:
        require_private(key_path(path, config.offsite.key_file))
    return service.run(path, config)


def mirror(args: argparse.Namespace) -> int:
    """One reconcile in the foreground (what the service does at start), or confirm held deletions."""
    config, path, layout = setup(args)
    logs.setup(config)
    layout.require_catalog()  # a lost state folder is refused before the lock file would be written there
    lock = ServiceLock(layout.state_dir)
    if not lock.acquire():
        if not args.confirm_deletes:
            raise EnvironmentProblem(t("mirror.service_running"))
        # The running service owns the mirror: leave it the request, it applies it within a second.
        with layout.open_catalog() as catalog, catalog.transaction():
            catalog.set_meta(CONFIRM, now())
        print(t("mirror.confirm_requested"))
        return EXIT_OK
    alerts = Alerts()
    try:
        parts = Parts.build(config, path, alerts, schedule=False)
        parts.reconciler.progress = True  # the copies it makes, on stderr (a bar on a terminal)
        try:
            with explaining(layout.catalog_path, layout.catalog_copy_path):  # damage: exit 2, in words
                result = parts.reconciler.run()
                # No watcher runs beside this reconcile: the removals it found are the whole batch,
                # judged now (held when it is a mass deletion, applied otherwise).
                applied = parts.guard.tick(confirm=args.confirm_deletes, settled=True)
                held = parts.guard.held()
                unmirrored = len(parts.catalog.unmirrored())
        finally:
            parts.close()
    finally:
        lock.release()
    print(t("mirror.done", files=result.files, arrived=result.arrived, gone=result.gone, moved=result.moved,
            applied=result.removals_applied + applied, seconds=round(result.seconds, 2)))
    if result.swept:
        print(t("mirror.swept", count=result.swept))
    if result.refill:
        print(t("mirror.refilled", count=result.refill, done=result.refill - min(result.refill, unmirrored)))
    if held:
        print(t("status.held", count=held["count"], since=local(held["since"])))
    unreadable = [n for n in alerts.notes if n["kind"] == "unreadable"]
    for note in unreadable:
        print(t("mirror.unreadable", path=printable(str(note["path"])),
                reason=printable(str(note["reason"]))))
    for folder in result.unlisted:
        print(t("mirror.unlisted", path=shown(folder) or "."))
    problems = bool(unreadable or result.unlisted)  # the mirror holds older copies of these
    kept = alerts.active.get("catalog_copy_kept")
    if kept:  # the mirror's catalog copy holds history this catalog lacks: it was not overwritten
        print(t("catalog.copy_kept", path=layout.catalog_path, copy=kept["copy"],
                reason=t(f"catalog.copy_kept.{kept['reason']}")))
        problems = True
    if unmirrored or held or not parts.mirror.available():
        print(t("mirror.incomplete", count=unmirrored))
        problems = True
    return EXIT_PROBLEMS if problems else EXIT_OK


def status(args: argparse.Namespace) -> int:
    _, _, layout = setup(args)
    with layout.open_catalog() as catalog:
        state = status_file.gather(layout, catalog)
    print(json.dumps(state, ensure_ascii=False, indent=2) if args.format == "json"
          else status_file.render(state))
    return EXIT_OK
