"""Offline sets (dangan media, issue 19): real BagIt bags on a folder standing in for a removable disk,
real ISO 9660 + UDF images, read back by the LoC's bagit and by pycdlib, checked, and restored from."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import bagit
import pycdlib
import pytest
import yaml
from makers import TASK

from dangan.backup.bag import INVENTORY, Inventory, parse_manifest
from dangan.backup.disc import ImageBag

LONG = "关于" + "学院重要档案异地异质备份管理" * 4 + "的通知.pdf"  # 64 characters, 186 bytes
GBK = os.fsencode(TASK) + b"/" + "校运动会.txt".encode("gbk")


def fill(archive) -> dict[bytes, bytes]:
    files = {
        f"{TASK}/纪要.pdf".encode(): b"%PDF-1.4 minutes",
        f"{TASK}/{LONG}".encode(): b"long name " * 50,
        "02教务处/B教学诊改/B1/方案.docx".encode(): b"plan" * 100,
        GBK: b"gbk name",
    }
    for rel, data in files.items():
        archive.write(rel, data, mtime=1_600_000_000)
    return files


def run(archive, capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = archive.run(*args)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out + captured.err


def media(archive, capsys, *args: str) -> tuple[int, str]:
    return run(archive, capsys, "media", *args)


def tree(root: Path) -> dict[bytes, bytes]:
    found = {}
    base = os.fsencode(root)
    for folder, dirs, names in os.walk(base):
        dirs[:] = [d for d in dirs if not d.startswith(b".dangan")]
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, base)] = f.read()
    return found


def reread(bag: Path) -> Inventory:
    """Every record of a folder set read again: its SHA-256 as the manifest says, its archive hash as
    the inventory says."""
    import hashlib

    inventory = Inventory.from_bytes((bag / INVENTORY).read_bytes())
    manifest = parse_manifest((bag / "manifest-sha256.txt").read_bytes())
    assert len(manifest) == len(inventory.members)
    for member in inventory.members:
        data = (bag / member.name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == manifest[member.name] == member.sha256
        assert hashlib.new(inventory.hash_algorithm, data).hexdigest() == member.hash
    return inventory


@pytest.fixture
def filled(archive, capsys):
    files = fill(archive)
    assert run(archive, capsys, "mirror")[0] == 0
    return archive, files


def test_a_set_on_a_disk_is_a_valid_bag_with_the_catalog_and_restores_byte_for_byte(filled, tmp_path, capsys):
    archive, files = filled
    disk = tmp_path / "disk"
    disk.mkdir()
    code, out = media(archive, capsys, "write", "--to", str(disk), "--label", "A1", "--kept-at", "档案室 2 号柜")
    assert code == 0, out
    assert "全部写入并核验" in out
    bag = disk / "A1"
    bagit.Bag(str(bag)).validate()  # the Library of Congress's own validation
    inventory = reread(bag)
    assert {m.path for m in inventory.members} == set(files)
    info = bagit.Bag(str(bag)).info
    assert info["Dangan-Role"] == "使用" and info["External-Identifier"] == "A1"
    assert info["Dangan-Written"].endswith("+08:00") and info["Payload-Oxum"] == f"{sum(map(len, files.values()))}.4"
    # the GBK name: a readable name in the bag, its exact bytes in the inventory
    gbk = next(m for m in inventory.members if m.path == GBK)
    assert gbk.name == f"data/{TASK}/校运动会.txt" and (bag / gbk.name).read_bytes() == b"gbk name"
    document = json.loads((bag / INVENTORY).read_bytes())
    assert any(base64.b64decode(f["path_base64"]) == GBK for f in document["files"])
    assert (bag / "data" / TASK / LONG).read_bytes() == files[f"{TASK}/{LONG}".encode()]
    # the catalog and its ledger, and the config without secrets, travel with the set
    with sqlite3.connect(bag / "dangan" / "catalog.sqlite") as db:
        assert db.execute("SELECT count(*) FROM ledger WHERE event = 'intake'").fetchone()[0] == 4
    config = json.loads((bag / "dangan" / "config.json").read_text(encoding="utf-8"))
    assert config["archive_root"] == str(archive.root) and "smtp_password_file" not in config["report"]
    assert "清单" in (bag / "dangan" / "清单.txt").read_text(encoding="utf-8")
    # registered
    code, out = media(archive, capsys, "list")
    assert code == 0 and "A1\t移动硬盘\t使用\t档案室 2 号柜\t4\t" in out
    # restored from the set alone, byte for byte (the GBK name too)
    shutil.rmtree(archive.root)
    code, out = run(archive, capsys, "restore", "--from", "media", "--set", str(disk), "--to",
                    str(tmp_path / "new"))
    assert code == 0, out
    assert tree(tmp_path / "new") == files
    assert os.stat(tmp_path / "new" / TASK / "纪要.pdf").st_mtime == 1_600_000_000


def test_two_copies_in_one_go_and_the_next_set_holds_only_what_changed(filled, tmp_path, capsys):
    archive, files = filled
    use, sealed = tmp_path / "use", tmp_path / "sealed"
    use.mkdir()
    sealed.mkdir()
    code, out = media(archive, capsys, "write", "--to", str(use), "--to", str(sealed), "--copies", "2",
                      "--label", "S1")
    assert code == 0, out
    for folder, role in ((use / "S1-使用", "使用"), (sealed / "S1-封存", "封存")):
        bagit.Bag(str(folder)).validate()
        assert bagit.Bag(str(folder)).info["Dangan-Role"] == role and len(reread(folder).members) == 4
    archive.write(f"{TASK}/新通知.txt", b"new")
    code, out = media(archive, capsys, "write", "--to", str(use), "--label", "S2")
    assert code == 0, out
    assert [m.path for m in reread(use / "S2").members] == [f"{TASK}/新通知.txt".encode()]
    code, out = media(archive, capsys, "write", "--to", str(use), "--label", "S3")
    assert code == 0 and "没有新增或修改" in out and not (use / "S3").exists()
    code, out = media(archive, capsys, "write", "--to", str(use), "--label", "S2")
    assert code == 2 and "已有标签" in out


def test_a_flipped_byte_is_found_by_the_carrier_check_and_reported(filled, tmp_path, capsys):
    archive, _ = filled
    disk = tmp_path / "disk"
    disk.mkdir()
    assert media(archive, capsys, "write", "--to", str(disk), "--label", "C1")[0] == 0
    code, out = media(archive, capsys, "check", "--from", str(disk), "--sample", "0.5")
    assert code == 0 and "检测通过" in out and "核验 2 个文件（共 4 个）" in out
    victim = disk / "C1" / "data" / "02教务处" / "B教学诊改" / "B1" / "方案.docx"
    os.chmod(victim, 0o644)
    data = bytearray(victim.read_bytes())
    data[10] ^= 0x01
    victim.write_bytes(bytes(data))
    code, out = media(archive, capsys, "check", "--from", str(disk / "C1"))
    assert code == 1 and "检测未通过" in out and "方案.docx" in out
    code, out = media(archive, capsys, "list", "--format", "json")
    assert json.loads(out)[0]["result"] == "failed"
    assert run(archive, capsys, "report", "--out", str(tmp_path / "report"))[0] == 0
    text = next((tmp_path / "report").glob("*.txt")).read_text(encoding="utf-8")
    assert "C1" in text and "载体检测未通过" in text
    page = next((tmp_path / "report").glob("*.html")).read_text(encoding="utf-8")
    assert "<td class=\"nowrap\">C1</td>" in page


def test_a_symlink_planted_at_the_target_is_refused(filled, tmp_path, capsys):
    archive, _ = filled
    disk, elsewhere = tmp_path / "disk", tmp_path / "elsewhere"
    disk.mkdir()
    elsewhere.mkdir()
    (disk / "P1").symlink_to(elsewhere)
    code, out = media(archive, capsys, "write", "--to", str(disk), "--label", "P1")
    assert code == 2 and "符号链接" in out
    assert list(elsewhere.iterdir()) == []
    isos = tmp_path / "isos"
    isos.mkdir()
    (isos / "P2.iso").symlink_to(elsewhere / "victim.iso")
    code, out = media(archive, capsys, "write", "--iso", str(isos), "--label", "P2")
    assert code == 2 and not (elsewhere / "victim.iso").exists()
    code, out = media(archive, capsys, "write", "--to", str(archive.mirror), "--label", "P3")
    assert code == 2 and "镜像根目录" in out and not (archive.mirror / "P3").exists()
    code, out = media(archive, capsys, "list")
    assert "P1" not in out and "P2" not in out and "P3" not in out


def _retention(archive) -> None:
    data = yaml.safe_load(archive.config.read_text(encoding="utf-8"))
    data["offsite"]["retention_default"] = "短期"
    data["offsite"]["retention_rules"] = {"永久件": "永久"}
    archive.config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_what_does_not_fit_is_chosen_by_priority_and_said(archive, tmp_path, capsys):
    _retention(archive)
    archive.write(f"{TASK}/永久件.bin", os.urandom(2_000_000), mtime=1_500_000_000)  # older, but 永久
    archive.write(f"{TASK}/短期件.bin", os.urandom(2_000_000), mtime=1_700_000_000)
    assert run(archive, capsys, "mirror")[0] == 0
    disk = tmp_path / "disk"
    disk.mkdir()
    code, out = media(archive, capsys, "write", "--to", str(disk), "--label", "F1", "--capacity", "4M")
    assert code == 1 and "留待下一张" in out and "短期件.bin" in out and "全部写入" not in out
    assert [m.name for m in reread(disk / "F1").members] == [f"data/{TASK}/永久件.bin"]
    code, out = media(archive, capsys, "write", "--to", str(disk), "--label", "F2", "--capacity", "4M")
    assert code == 0, out
    assert [m.name for m in reread(disk / "F2").members] == [f"data/{TASK}/短期件.bin"]


def _image_to_folder(image: Path, into: Path) -> Path:
    """Every file of an image read out through UDF into a folder, for bagit to validate. (pycdlib's own
    walk() decodes 8-bit UDF names as UTF-16: each name is decoded as its descriptor says.)"""
    iso = pycdlib.PyCdlib()
    iso.open(str(image))

    def copy(folder: str) -> None:
        for child in iso.list_children(udf_path=folder or "/"):
            if child is None or child.is_dot() or child.is_dotdot():
                continue
            name = child.file_identifier().decode(child.file_ident.encoding)
            path = f"{folder}/{name}"
            if child.is_dir():
                copy(path)
                continue
            target = into / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as out:
                iso.get_file_from_iso_fp(out, udf_path=path)
    try:
        copy("")
    finally:
        iso.close()
    return into


def test_disc_images_split_without_splitting_a_record_each_a_bag_and_restored_from_both(archive, tmp_path, capsys):
    files = fill(archive)
    for n in range(3):
        files[f"{TASK}/照片{n}.jpg".encode()] = os.urandom(700_000)
        archive.write(f"{TASK}/照片{n}.jpg", files[f"{TASK}/照片{n}.jpg".encode()])
    assert run(archive, capsys, "mirror")[0] == 0
    isos = tmp_path / "isos"
    code, out = media(archive, capsys, "write", "--iso", str(isos), "--media", "dvd", "--label", "D1",
                      "--capacity", "3.5M")
    assert code == 0, out
    images = sorted(isos.glob("*.iso"))
    assert [i.name for i in images] == ["D1-1of2.iso", "D1-2of2.iso"]
    assert (isos / "D1-标签.txt").read_text(encoding="utf-8").count("标签：D1-") == 2
    held: dict[bytes, str] = {}
    for image in images:
        assert image.stat().st_size <= 3.5 * (1 << 20)
        bag = _image_to_folder(image, tmp_path / image.stem)
        bagit.Bag(str(bag)).validate()  # each image a complete bag of its own
        inventory = reread(bag)
        assert (inventory.part, inventory.parts) == (images.index(image) + 1, 2)
        held.update({m.path: m.hash for m in inventory.members})
    assert set(held) == set(files)  # every record on exactly one of the two, none split
    first = ImageBag(images[0])
    try:
        names = {m.name for m in Inventory.from_bytes(first.read(INVENTORY)).members}
    finally:
        first.close()
    assert f"data/{TASK}/{LONG}" in names or f"data/{TASK}/{LONG}" in {
        m.name for m in Inventory.from_bytes((tmp_path / "D1-2of2" / INVENTORY).read_bytes()).members}
    code, out = media(archive, capsys, "check", "--from", str(isos))
    assert code == 0 and out.count("检测通过") == 2
    _mounted(images[0], tmp_path)
    shutil.rmtree(archive.root)
    code, out = run(archive, capsys, "restore", "--from", "media", "--set", str(images[0]), str(images[1]),
                    "--to", str(tmp_path / "new"))
    assert code == 0, out
    assert tree(tmp_path / "new") == files


def _mounted(image: Path, tmp_path: Path) -> None:
    """Where the machine allows it (root, a kernel with UDF), the image mounted as a disc would be."""
    point = tmp_path / "mnt"
    point.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-o", "loop,ro", "-t", "udf", str(image), str(point)],
                                           capture_output=True).returncode != 0:
        return  # no loop/UDF mount here: pycdlib has read every file above
    try:
        bagit.Bag(str(point)).validate()  # the kernel's UDF shows the bag with its Chinese names
        members = Inventory.from_bytes((point / INVENTORY).read_bytes()).members
        assert members and all((point / m.name).is_file() for m in members)
        assert not any(m.name.isascii() for m in members)  # every record's path has Chinese in it
    finally:
        subprocess.run(["umount", str(point)], check=True)


def test_restore_at_a_past_moment_from_two_sets_when_the_catalog_is_gone(filled, tmp_path, capsys):
    archive, files = filled
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    assert media(archive, capsys, "write", "--to", str(first), "--label", "R1")[0] == 0
    from datetime import datetime, timezone
    moment = datetime.now(timezone.utc).isoformat()
    archive.write(f"{TASK}/纪要.pdf", b"%PDF-1.4 minutes, revised")
    assert media(archive, capsys, "write", "--to", str(second), "--label", "R2")[0] == 0
    assert len(reread(second / "R2").members) == 1  # only the change
    for gone in (archive.root, archive.state, archive.mirror):
        shutil.rmtree(gone)
    code, out = run(archive, capsys, "restore", "--from", "media", "--set", str(first / "R1"), str(second / "R2"),
                    "--to", str(tmp_path / "then"), "--at", moment)
    assert code == 0, out
    assert tree(tmp_path / "then") == files
    # the form: the sets named by --at (a path that exists), no moment = the newest state
    code, out = run(archive, capsys, "restore", "--from", "media", "--at", str(first / "R1"), "--at",
                    str(second / "R2"), "--to", str(tmp_path / "now"))
    assert code == 0, out
    assert tree(tmp_path / "now")[f"{TASK}/纪要.pdf".encode()] == b"%PDF-1.4 minutes, revised"


def test_sm3_archives_carry_sm3_in_the_inventory_and_sha256_for_bagit(archive, tmp_path, capsys):
    data = yaml.safe_load(archive.config.read_text(encoding="utf-8"))
    data["hash_algorithm"] = "sm3"
    archive.config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    archive.write(f"{TASK}/纪要.pdf", b"%PDF-1.4 minutes")
    assert run(archive, capsys, "mirror")[0] == 0
    disk = tmp_path / "disk"
    disk.mkdir()
    assert media(archive, capsys, "write", "--to", str(disk), "--label", "M1")[0] == 0
    bagit.Bag(str(disk / "M1")).validate()
    inventory = reread(disk / "M1")  # the SM3 of every record read again too
    assert inventory.hash_algorithm == "sm3" and inventory.members[0].hash != inventory.members[0].sha256


def test_the_register_knows_which_sets_are_due_for_their_carrier_check(filled, tmp_path, capsys):
    from datetime import datetime, timedelta, timezone

    from dangan.store.catalog import Catalog

    archive, _ = filled
    disk, isos = tmp_path / "disk", tmp_path / "isos"
    disk.mkdir()
    assert media(archive, capsys, "write", "--to", str(disk), "--label", "W1")[0] == 0
    assert media(archive, capsys, "write", "--iso", str(isos), "--label", "W2", "--role", "封存", "--full")[0] == 0
    with Catalog(archive.state / "catalog.sqlite") as catalog:
        soon = datetime.now(timezone.utc) + timedelta(days=365)
        later = datetime.now(timezone.utc) + timedelta(days=3 * 365)
        much_later = datetime.now(timezone.utc) + timedelta(days=5 * 365)
        assert catalog.media.due(2, 4, soon) == []
        assert [s.label for s in catalog.media.due(2, 4, later)] == ["W1"]  # a disk: every 2 years
        assert [s.label for s in catalog.media.due(2, 4, much_later)] == ["W1", "W2"]  # a disc: every 4
