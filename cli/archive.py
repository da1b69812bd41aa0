"""The archive's own commands: ``init`` (config, folders, markers, catalog, off-site key), ``check``
(the filing rules over the archive or some paths) and ``rules`` (the rulebook as configured)."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

from dangan.config import loader
from dangan.config.errors import UsageError
from dangan.config.messages import set_language, t
from dangan.config.rule_ids import RULE_IDS
from dangan.store import clock
from dangan.store.atomic import write_atomic
from dangan.store.layout import Layout
from dangan.rules.check import Checker
from dangan.rules.findings import to_json, to_text
from dangan.rules.rulebook import DEFAULT_SEVERITY, rule_title

from dangan.cli.common import load_config, setup
from dangan.cli.exits import EXIT_OK, EXIT_PROBLEMS


def init(args: argparse.Namespace) -> int:
    # imported here: `dangan check` (this module too) never needs the off-site copies
    from dangan.backup.keys import OffsiteKey, key_path
    from dangan.cli import copies

    path = loader.resolve_path(args.config)
    if args.adopt and path.exists() and not args.force:
        return copies.adopt(args)
    given = (("--archive-root", args.archive_root), ("--mirror-root", args.mirror_root),
             ("--state-dir", args.state_dir))
    missing = [flag for flag, value in given if not value]
    if missing:
        raise UsageError(t("init.missing", flags=", ".join(missing)))
    if path.exists() and not args.force:
        raise UsageError(t("init.exists", path=path))
    archive, mirror, state = (os.path.abspath(p)
                              for p in (args.archive_root, args.mirror_root, args.state_dir))
    remote = args.offsite_remote or os.path.join(state, "offsite")
    text = fill_template(loader.default_text(), archive_root=archive, mirror_root=mirror, state_dir=state,
                         remote=remote)
    config = loader.parse(text, path, from_options=True)  # the same validation as every later load
    set_language(config.language)
    clock.set_zone(config)
    layout = Layout.of(config)
    layout.create(config.departments, config.categories)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode("utf-8"), mode=0o600)
    with layout.open_catalog(create=True):
        pass  # created and migrated now, so that a permission problem shows at init, not later
    if os.path.isabs(remote):
        os.makedirs(remote, mode=0o700, exist_ok=True)  # the embedded default: a local, still encrypted copy
    print(t("init.done", config=path, archive=archive, mirror=mirror, state=state, offsite=remote))
    key_file = key_path(path, config.offsite.key_file)
    if not key_file.exists():  # never replace a key: the partner's copy is sealed with it
        key = OffsiteKey.generate()
        key.save(key_file)
        print(key.recovery_sheet(key_file, remote))
    return copies.adopt(args) if args.adopt else EXIT_OK


def fill_template(text: str, **values: str) -> str:
    """Put the admin's folders into the commented default, keeping every comment."""
    for key, value in values.items():
        # JSON strings are valid YAML double-quoted scalars: any path survives quoting.
        quoted = json.dumps(value, ensure_ascii=False)
        text, count = re.subn(rf"(?m)^(\s*{key}:)\s.*$", lambda m: f"{m.group(1)} {quoted}", text, count=1)
        assert count == 1, f"default.yaml lost its {key} key"
    return text


def check(args: argparse.Namespace) -> int:
    config, _, layout = setup(args)
    layout.require_archive()
    targets = [relative_target(p, layout.archive_root) for p in args.paths]
    with layout.open_catalog() as catalog:
        result = Checker(config, catalog, layout, progress=args.format == "text").run(targets or None)
    print(to_json(result) if args.format == "json" else to_text(result))
    return EXIT_PROBLEMS if result.errors else EXIT_OK


def relative_target(arg: str, root: Path) -> bytes:
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


def rules(args: argparse.Namespace) -> int:
    path = loader.resolve_path(args.config)
    config = load_config(args) if path.exists() else loader.parse(loader.default_text(), path)
    print(t("rules.header"))
    for rule in RULE_IDS:
        severity = config.rules.severity.get(rule, DEFAULT_SEVERITY[rule])
        state = "" if rule not in config.rules.disabled else " (off)"
        print(f"{rule} | {t('severity.' + severity)}{state} | {rule_title(rule, config)}")
    return EXIT_OK
