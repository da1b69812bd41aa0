"""``dangan media``: offline sets on removable disks and disc images (脱机备份) — ``write``, ``check``, ``list``."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

from dangan.config.errors import UsageError
from dangan.config.messages import t
from dangan.store.clock import local
from dangan.store.names import printable, shown
from dangan.daemon import logs
from dangan.backup.media import ROLES, MediaWriter, WriteResult, check_label, default_label
from dangan.backup.sets import check_set, find_sets
from dangan.backup.report import human_size
from dangan.backup.restore import refuse_inside_roots

from dangan.cli.common import setup
from dangan.cli.copies import _catch_up
from dangan.cli.exits import EXIT_OK, EXIT_PROBLEMS

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def capacity(text: str) -> int:
    """``--capacity``: bytes, or with K, M, G, T (binary units)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(t("media.bad_capacity", value=text))
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def share(text: str) -> float:
    """``--sample``: a share above 0, at most 1."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(t("media.bad_sample", value=text))
    return value


def write(args: argparse.Namespace) -> int:
    config, path, layout = setup(args)
    if bool(args.to) == bool(args.iso):
        raise UsageError(t("media.one_kind"))
    targets = [Path(os.path.abspath(p)) for p in (args.to or args.iso)]
    for target in targets:
        refuse_inside_roots(target, layout, "media.target_inside")
    roles = list(ROLES) if args.copies == 2 else [args.role]
    if args.iso and len(targets) == 1:
        targets *= len(roles)  # two sets of images may share one folder
    if len(targets) != len(roles):
        raise UsageError(t("media.targets_for_copies", copies=args.copies, targets=len(targets)))
    base = check_label(args.label or default_label())
    labels = [f"{base}-{role}" for role in roles] if len(roles) > 1 else [base]
    logs.setup(config)
    _catch_up(config, path, layout, args.format == "text")  # what changed while no service ran, mirrored first
    results = []
    with layout.open_catalog() as catalog:
        writer = MediaWriter(config, layout, catalog)
        for role, label, target in zip(roles, labels, targets):
            if args.iso:
                results.append(writer.to_images(target, args.medium, role, label, args.full, args.capacity,
                                                args.kept_at))
            else:
                results.append(writer.to_folder(target, role, label, args.full, args.capacity, args.kept_at))
    if args.format == "json":
        print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        print("\n".join(_text(r) for r in results))
    return EXIT_OK if all(r.ok or _nothing_new(r) for r in results) else EXIT_PROBLEMS


def _nothing_new(result: WriteResult) -> bool:
    return result.planned == 0 and not result.not_ready


def _text(result: WriteResult) -> str:
    lines = []
    if result.planned == 0:
        lines.append(t("media.nothing_new", role=result.role))
    for s in result.sets:
        lines.append(t("media.written", label=s.label, role=result.role, where=printable(s.where), records=s.records,
                       bytes=human_size(s.bytes)))
        lines += [t("media.set_failed", label=s.label)] + [f"  {printable(p)}" for p in s.problems[:20]] \
            if s.problems else []
    if result.left:
        lines.append(t("media.left", count=len(result.left), bytes=human_size(sum(e.size for e in result.left))))
        lines += [f"  {shown(e.path)}" for e in result.left[:20]]
    if result.unreadable:
        lines.append(t("media.unreadable", count=len(result.unreadable)))
        lines += [f"  {shown(p)}" for p in result.unreadable[:20]]
    if result.not_ready:
        lines.append(t("media.not_ready", count=result.not_ready))
    if result.sheet:
        lines.append(t("media.sheet_at", path=result.sheet))
    if result.ok:
        lines.append(t("media.all_written", count=sum(s.records for s in result.sets)))
    return "\n".join(lines)


def check(args: argparse.Namespace) -> int:
    config, _, layout = setup(args)
    sample = args.sample if args.sample is not None else 1.0
    sets = [found for where in args.source for found in find_sets(Path(os.path.abspath(where)))]
    results = []
    with layout.open_catalog() as catalog:
        for where in sets:
            results.append(check_set(where, catalog, sample))
    if args.format == "json":
        print(json.dumps([{"where": r.where, "label": r.inventory.label if r.inventory else None, "ok": r.ok,
                           "checked": r.checked, "records": len(r.inventory.members) if r.inventory else 0,
                           "problems": r.problems} for r in results], ensure_ascii=False, indent=2))
    else:
        for r in results:
            records = len(r.inventory.members) if r.inventory else 0
            label = r.inventory.label if r.inventory else "—"
            key = "media.check_ok" if r.ok else "media.check_failed"
            print(t(key, label=label, where=printable(r.where), checked=r.checked, records=records,
                    problems=len(r.problems)))
            print("\n".join(f"  {printable(p)}" for p in r.problems[:20]) or "", end="\n" if r.problems else "")
    return EXIT_OK if all(r.ok for r in results) else EXIT_PROBLEMS


def listing(args: argparse.Namespace) -> int:
    config, _, layout = setup(args)
    with layout.open_catalog() as catalog:
        sets = catalog.media.sets()
        overdue = {s.label for s in catalog.media.due(config.media.check_every_years_disk,
                                                      config.media.check_every_years_optical)}
    if args.format == "json":
        print(json.dumps([{**{k: getattr(s, k) for k in s.__dataclass_fields__}, "due": s.label in overdue}
                          for s in sets], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not sets:
        print(t("media.none"))
        return EXIT_OK
    print(t("media.list_header"))
    for s in sets:
        result = t(f"media.result.{s.result}") if s.result in ("ok", "failed") else "—"
        print("\t".join([s.label, t(f"media.medium.{s.medium}"), s.role, s.kept_at or "—", str(s.records),
                         human_size(s.bytes), local(s.written), local(s.last_checked), result,
                         t("media.due") if s.label in overdue else ""]).rstrip())
    return EXIT_OK
