"""The filing rules on the committed slice of the labelled corpus (issue 14): every label of every
file in tests/corpus/ is asserted, so a rule that regresses on real-world files fails here.

tests/corpus/ is a small, licence-clean subset of what bench/corpus.py builds (SOURCES.md names
each file's project and licence): other projects' published fixtures, damage derived from them the
way they derive theirs, and certificates carrying scanner/copier or phone/camera EXIF. The modelled
certificates are filed in a scan-only folder (its name holds 证书), everything else in an ordinary
task folder, under numbered names; one ``dangan check --format json`` over the archive gives the
findings. A label is ``true`` when dangan must report an error under the rule, ``false`` when it
must not (a warning is not an error: weak camera evidence, a codec this build lacks)."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from makers import TASK

from dangan.cli.main import main

CORPUS = Path(__file__).parent / "corpus"
SCAN = "01办公室/A标准建设/A2获奖证书"  # a scan-only context
ENTRIES = [json.loads(line) for line in (CORPUS / "labels.jsonl").read_text(encoding="utf-8").splitlines()
           if line.strip()]
# Labels the rules still get wrong: (file, rule) -> the class of mistake (issue 14, measured by
# bench/rules_bench.py). Strict: when a rule is fixed its cases pass, the xfail fails, and the entry must
# go. Every class the corpus found is fixed: OOXML types under each other's names, PNG chunks and later
# APNG frames, zips found at a truncated document's tail, libtiff's damage warnings, Pillow's decoder
# errors taken for missing codecs, WPS containers without their main stream.
KNOWN: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module")
def said(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[dict]]]:
    """corpus path -> rule -> dangan's findings, from one check of the whole corpus."""
    base = tmp_path_factory.mktemp("corpus")
    config, root = base / "config.yaml", base / "archive"
    assert main(["init", "--config", str(config), "--archive-root", str(root),
                 "--mirror-root", str(base / "mirror"), "--state-dir", str(base / "state")]) == 0
    where = {}
    for i, entry in enumerate(ENTRIES):
        rel = f"{SCAN if entry['scan'] else TASK}/{i:03d}{Path(entry['path']).suffix}"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CORPUS / entry["path"], root / rel)
        where[rel] = entry["path"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["check", "--config", str(config), "--format", "json"])
    assert code in (0, 1)
    report = json.loads(out.getvalue())
    found: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for v in report["violations"]:
        if v["path"] in where:
            found[where[v["path"]]][v["rule"]].append(v)
    assert report["files_checked"] >= len(ENTRIES)
    return found


def _cases():
    for entry in ENTRIES:
        for rule, expected in sorted(entry["labels"].items()):
            marks = [pytest.mark.xfail(reason=KNOWN[entry["path"], rule], strict=True)] \
                if (entry["path"], rule) in KNOWN else []
            yield pytest.param(entry["path"], rule, expected, id=f"{entry['path']}:{rule}", marks=marks)


def test_the_subset_is_small_and_sourced():
    files = [CORPUS / e["path"] for e in ENTRIES]
    assert 0 < len(files) <= 60
    assert sum(f.stat().st_size for f in files) <= 2 * 1024 * 1024
    sources = (CORPUS / "SOURCES.md").read_text(encoding="utf-8")
    for entry in ENTRIES:
        assert entry["path"] in sources, f"{entry['path']} has no source and licence in SOURCES.md"
    rules = {rule: {e["labels"][rule] for e in ENTRIES if rule in e["labels"]} for rule in
             ("readable.corrupt", "readable.encrypted", "format.mismatch", "scan.camera", "scan.resolution")}
    assert all(values == {True, False} for values in rules.values()), rules


@pytest.mark.parametrize("path,rule,expected", list(_cases()))
def test_label(said, path: str, rule: str, expected: bool):
    found = said.get(path, {}).get(rule, [])
    errors = [v for v in found if v["severity"] == "error"]
    entry = next(e for e in ENTRIES if e["path"] == path)
    words = "; ".join(f"{v['severity']}: {v['message']}" for v in found) or "nothing"
    assert bool(errors) == expected, (
        f"{path} ({entry['origin']}): {rule} should {'be' if expected else 'not be'} an error "
        f"({entry['basis'].get(rule, '')}); dangan said: {words}")
    for v in found:  # what a user reads is words, not internals
        assert " at 0x" not in v["message"] and "Traceback" not in v["message"], v["message"]
