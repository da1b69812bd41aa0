"""docs/FORMAT.md is true: its schemas validate every inventory dangan writes, and its "without dangan"
commands, followed literally with only rclone and Python's standard library, bring every record back."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from makers import TASK
from referencing import Registry, Resource

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "FORMAT.md"
SCHEMAS = REPO / "docs" / "schemas"
DANGAN = str(Path(sys.executable).with_name("dangan"))
RCLONE = str(Path(sys.executable).with_name("rclone"))


def _dangan(config: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([DANGAN, args[0], "--config", str(config), *args[1:]], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def _validator(name: str) -> Draft202012Validator:
    resources = [(p.name, Resource.from_contents(json.loads(p.read_text(encoding="utf-8"))))
                 for p in SCHEMAS.glob("*.json")]
    registry = Registry().with_resources(resources)
    return Draft202012Validator(json.loads((SCHEMAS / name).read_text(encoding="utf-8")), registry=registry)


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def _write(root: Path, rel: bytes, data: bytes) -> None:
    path = os.path.join(os.fsencode(root), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def _tree(root: Path) -> dict[bytes, bytes]:
    found = {}
    base = os.fsencode(root)
    for folder, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if not (folder == base and d.startswith(b".dangan"))]
        for name in files:
            if folder == base and name.startswith(b".dangan"):
                continue
            with open(os.path.join(folder, name), "rb") as f:
                found[os.path.relpath(os.path.join(folder, name), base)] = f.read()
    return found


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """An archive shipped to the local partner folder in a chain of one full and two delta runs, with
    GBK and long names, a changed record (two versions) and removals; and the recovery sheet."""
    tmp_path = tmp_path_factory.mktemp("shipped")
    config, root = tmp_path / "etc" / "config.yaml", tmp_path / "archive"
    init = _dangan(config, "init", "--archive-root", str(root), "--mirror-root", str(tmp_path / "mirror"),
                   "--state-dir", str(tmp_path / "state"))
    task = os.fsencode(TASK)
    long_name = ("关于举办全校师生运动会暨教职工趣味运动会开幕式的通知及活动方案" * 3)[:70] + ".pdf"
    _write(root, task + b"/" + long_name.encode(), b"long name")
    _write(root, task + b"/" + "校运动会.txt".encode("gbk"), b"an old GBK name")
    _write(root, task + "/会议纪要.docx".encode(), b"first version")
    _write(root, task + b"/gone.txt", b"removed later")
    for i in range(5):
        _write(root, task + f"/照片/2021020{i}活动.jpg".encode(), os.urandom(3000))
    for change in range(3):
        if change == 1:
            _write(root, task + "/会议纪要.docx".encode(), b"second version")
            os.unlink(os.path.join(os.fsencode(root), task + b"/gone.txt"))
        if change == 2:
            os.unlink(os.path.join(os.fsencode(root), task + "/照片/20210200活动.jpg".encode()))
            _write(root, task + b"/new.txt", b"arrived last")
        _dangan(config, "mirror")
        _dangan(config, "backup")
        if change == 0:
            first = {p: c for p, c in _tree(root).items()}
    return config, root, tmp_path / "state", init.stdout, first


def test_schemas_validate_every_inventory_dangan_writes(shipped):
    _, _, state, _, _ = shipped
    inventories = sorted((state / "manifests").glob("*.json.gz"))
    kinds = set()
    for path in inventories:
        document = json.loads(gzip.decompress(path.read_bytes()))
        schema = "manifest-delta-1.schema.json" if path.name.endswith("-delta.json.gz") else "manifest-1.schema.json"
        errors = [e.message for e in _validator(schema).iter_errors(document)]
        assert not errors, (path.name, errors)
        kinds.add(document["format"])
    assert kinds == {"dangan-manifest/1", "dangan-manifest-delta/1"}


def test_a_schema_refuses_what_is_not_an_inventory():
    """The schemas can fail: a delta is not a full inventory, a path must carry its bytes."""
    delta = {"format": "dangan-manifest-delta/1", "run_id": "20261121T180000.123Z", "kind": "incremental",
             "created": "2026-11-21T18:00:00+00:00", "archive_id": None, "hash_algorithm": "sha256", "files": [],
             "totals": {"files": 0, "bytes": 0}, "base": "20261120T180000.123Z", "removed": []}
    assert not list(_validator("manifest-delta-1.schema.json").iter_errors(delta))
    assert list(_validator("manifest-1.schema.json").iter_errors(delta))
    entry = {"path": "a.txt", "size": 1, "mtime_ns": 0, "hash": "0" * 64, "department": None, "category": None,
             "retention": "永久"}
    assert list(_validator("manifest-delta-1.schema.json").iter_errors({**delta, "files": [entry]}))


def test_restore_without_dangan_follows_the_document(shipped, tmp_path):
    """Only rclone and python3 (the system's, where dangan is not installed, no import of it possible)
    and the document's own commands, filled in from the recovery sheet."""
    config, root, _, sheet, first = shipped
    values = {}
    for line in sheet.splitlines():
        for label, key in (("异地存储：", "OFFSITE_STORAGE"), ("password：", "PASSWORD"), ("salt：", "SALT")):
            if line.startswith(label):
                values[key] = line[len(label):].strip()
    assert set(values) == {"OFFSITE_STORAGE", "PASSWORD", "SALT"}, sheet
    shell = next(b for b in _blocks("sh") if "RCLONE_CONFIG_SEALED_TYPE" in b)
    for key, value in values.items():
        shell = shell.replace(f"'{key}'", f"'{value}'")
    script = next(b for b in _blocks("python") if "restore_copy" in DOC.read_text() and "path_base64" in b)
    assert not re.search(r"^\s*(import|from)\s+dangan", script, flags=re.M)
    work, tools = tmp_path / "by-hand", tmp_path / "tools"
    work.mkdir()
    tools.mkdir()
    (work / "restore_copy.py").write_text(script, encoding="utf-8")
    os.symlink(RCLONE, tools / "rclone")
    env = {"PATH": f"{tools}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "RCLONE_CONFIG": "/dev/null"}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", shell], cwd=work, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert re.search(r"(\d+) of \1 records restored and verified", done.stdout), done.stdout
    restored, archive = _tree(work / "restored"), _tree(root)
    assert restored == archive
    assert "校运动会.txt".encode("gbk") in {os.path.basename(p) for p in restored}
    assert restored[os.fsencode(TASK) + "/会议纪要.docx".encode()] == b"second version"
    for rel in archive:
        original = os.stat(os.path.join(os.fsencode(root), rel)).st_mtime_ns
        assert os.stat(os.path.join(os.fsencode(work / "restored"), rel)).st_mtime_ns == original
    # a past state: the first run, given by its id as the document says
    runs = sorted(p.name.split("-")[0].removesuffix(".json.gz")
                  for p in (work / "partner-copy" / "manifests").iterdir())
    back = subprocess.run(["python3", "restore_copy.py", "./partner-copy", "./first", runs[0]], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert back.returncode == 0, back.stderr
    assert _tree(work / "first") == first


def test_the_readme_gives_the_same_commands():
    readme = re.findall(r"```sh\n(.*?)```", (REPO / "README.md").read_text(encoding="utf-8"), flags=re.S)
    assert next(b for b in _blocks("sh") if "SEALED" in b) in readme


def test_the_recovery_sheet_names_the_document(shipped):
    assert "docs/FORMAT.md" in shipped[3] and "password2" in shipped[3]


def test_the_document_names_the_schema_version_the_code_writes():
    from dangan.store.catalog import SCHEMA_VERSION

    assert f"catalog schema version {SCHEMA_VERSION} " in DOC.read_text(encoding="utf-8")
