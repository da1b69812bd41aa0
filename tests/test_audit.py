"""The weekly audit and report: silent corruption planted on each copy, found, named, repaired
only from a good copy; the report's verdict; mail to a real SMTP server; metrics."""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from makers import TASK
from partner import free_port, start_sftp, use_partner

DANGAN = str(Path(sys.executable).with_name("dangan"))


def dangan(archive, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DANGAN, args[0], "--config", str(archive.config), *args[1:]], capture_output=True,
                          text=True, timeout=300, cwd=archive.base)


def flip(path: Path, at: int | None = None) -> None:
    """Silent corruption: one byte changed (the middle one unless ``at``), size and mtime as before."""
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2 if at is None else at] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def audit(archive, *args: str) -> tuple[int, dict]:
    done = dangan(archive, "audit", "--format", "json", *args)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def kinds(report: dict) -> set[tuple[str, str, str]]:
    return {(f["copy"], f["kind"], f["path"]) for f in report["findings"]}


@pytest.fixture
def populated(archive):
    for i in range(6):
        archive.write(f"{TASK}/{i}.txt", f"record number {i} ".encode() * 100)
    assert dangan(archive, "mirror").returncode == 0
    assert dangan(archive, "backup").returncode == 0
    return archive


def test_clean_audit_confirms_everything(populated):
    code, report = audit(populated)
    assert code == 0
    assert report["counts"]["primary"] == {"confirmed": 6}
    assert report["counts"]["mirror"]["confirmed"] == 6
    props = report["properties"]
    assert all(props[p]["ok"] for p in ("authenticity", "integrity", "usability", "security"))
    assert props["security"]["antivirus"] is None  # no ClamAV configured: stated as not checked
    assert report["offsite"]["ok"] is True


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_corruption_on_each_copy_is_found_and_named(populated, tmp_path):
    archive = populated
    flip(archive.path(f"{TASK}/0.txt"))
    flip(archive.mirror / TASK / "1.txt")
    os.unlink(archive.mirror / TASK / "2.txt")
    (archive.mirror / TASK / "陌生.txt").write_bytes(b"not ours")
    # an edit the watcher missed: new content and a new mtime
    archive.path(f"{TASK}/3.txt").write_bytes(b"edited")
    code, report = audit(archive)
    assert code == 1
    found = kinds(report)
    assert ("primary", "corrupted", f"{TASK}/0.txt") in found
    assert ("primary", "changed", f"{TASK}/3.txt") in found
    assert ("mirror", "corrupted", f"{TASK}/1.txt") in found
    assert ("mirror", "missing", f"{TASK}/2.txt") in found
    assert ("mirror", "extra", f"{TASK}/陌生.txt") in found
    assert report["properties"]["authenticity"]["ok"] is False


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_repair_only_from_a_copy_that_matches(populated):
    archive = populated
    good = archive.path(f"{TASK}/0.txt").read_bytes()
    flip(archive.path(f"{TASK}/0.txt"))  # the primary rots: the mirror is good
    flip(archive.mirror / TASK / "1.txt")  # the mirror rots: the primary is good
    flip(archive.path(f"{TASK}/4.txt"))  # both rot: nothing good to repair from
    flip(archive.mirror / TASK / "4.txt")
    code, report = audit(archive, "--repair")
    actions = {(f["copy"], f["path"]): f["action"] for f in report["findings"]}
    assert actions[("primary", f"{TASK}/0.txt")] == "repaired from the mirror"
    assert actions[("mirror", f"{TASK}/1.txt")] == "repaired from the primary"
    assert actions[("primary", f"{TASK}/4.txt")].startswith("not repaired")
    assert code == 1  # file 4 is still broken
    assert archive.path(f"{TASK}/0.txt").read_bytes() == good
    assert (archive.mirror / TASK / "1.txt").read_bytes() == archive.path(f"{TASK}/1.txt").read_bytes()
    with sqlite3.connect(archive.state / "catalog.sqlite") as db:
        repairs = db.execute("SELECT count(*) FROM ledger WHERE event = 'repair'").fetchone()[0]
    assert repairs == 2
    code, again = audit(archive)
    assert {(f["copy"], f["path"]) for f in again["findings"] if f["kind"] == "corrupted"} == {
        ("primary", f"{TASK}/4.txt"), ("mirror", f"{TASK}/4.txt")}


def test_a_mirror_copy_differing_from_a_good_primary_after_the_first_chunk_is_corrupted(populated):
    """The mirror is compared with the primary byte for byte, not hashed, when the primary matches
    the catalog: every chunk and the length must be compared, not only the first read."""
    archive = populated
    size = (2 << 20) + 12345  # three 1 MiB reads
    for name in ("last.bin", "longer.bin", "shorter.bin"):
        archive.write(f"{TASK}/{name}", os.urandom(size))
    assert dangan(archive, "mirror").returncode == 0
    flip(archive.mirror / TASK / "last.bin", at=size - 1)  # the last byte of the last chunk
    with open(archive.mirror / TASK / "longer.bin", "ab") as f:
        f.write(b"\0")
    os.truncate(archive.mirror / TASK / "shorter.bin", size - 1)
    code, report = audit(archive, "--repair")
    assert code == 0  # all three repaired from the primary
    assert report["counts"]["primary"] == {"confirmed": 9}
    mirror = {(f["kind"], f["path"]): f["action"] for f in report["findings"] if f["copy"] == "mirror"}
    assert mirror == {("corrupted", f"{TASK}/{n}"): "repaired from the primary"
                      for n in ("last.bin", "longer.bin", "shorter.bin")}
    for name in ("last.bin", "longer.bin", "shorter.bin"):
        assert (archive.mirror / TASK / name).read_bytes() == archive.path(f"{TASK}/{name}").read_bytes()
    code, again = audit(archive)
    assert code == 0 and again["findings"] == [] and again["counts"]["mirror"]["confirmed"] == 9


def test_a_corrupted_primary_is_repaired_from_a_good_mirror(populated):
    """The primary no longer matches the catalog: the mirror copy is hashed on its own, found good,
    and the primary is repaired from it."""
    archive = populated
    size = (2 << 20) + 777
    good = os.urandom(size)
    archive.write(f"{TASK}/big.bin", good)
    assert dangan(archive, "mirror").returncode == 0
    flip(archive.path(f"{TASK}/big.bin"), at=size - 1)
    code, report = audit(archive, "--repair")
    assert [(f["copy"], f["kind"], f["path"], f["action"]) for f in report["findings"]] == [
        ("primary", "corrupted", f"{TASK}/big.bin", "repaired from the mirror")]
    assert code == 0 and report["counts"]["mirror"]["confirmed"] == 7
    assert archive.path(f"{TASK}/big.bin").read_bytes() == good
    code, again = audit(archive)
    assert code == 0 and again["findings"] == []


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_corruption_at_the_partner_is_found(archive, tmp_path):
    partner = start_sftp(tmp_path)
    try:
        use_partner(archive, partner)
        archive.write(f"{TASK}/a.txt", b"partner copy " * 200)
        assert dangan(archive, "mirror").returncode == 0
        assert dangan(archive, "backup").returncode == 0
        data_file = next(p for p in partner.files() if p.stat().st_size == 2600 + 48)
        raw = bytearray(data_file.read_bytes())
        raw[100] ^= 0xFF
        data_file.write_bytes(bytes(raw))
        code, report = audit(archive)
        assert code == 1 and report["offsite"]["ok"] is False
        assert any(f["copy"] == "offsite" for f in report["findings"])
    finally:
        partner.stop()


def test_audit_with_no_offsite_run_yet_is_a_warning_not_corruption(archive):
    archive.write(f"{TASK}/a.txt", b"a")
    assert dangan(archive, "mirror").returncode == 0
    code, report = audit(archive)
    assert code == 0 and report["offsite"]["ok"] is None and report["offsite"]["warning"]


def test_report_verdicts(populated, tmp_path):
    archive = populated
    assert dangan(archive, "backup", "--verify").returncode == 0
    audit(archive)
    done = dangan(archive, "report", "--out", str(tmp_path / "ok"))
    assert done.returncode == 0 and "正常" in done.stdout, done.stdout
    flip(archive.mirror / TASK / "1.txt")
    audit(archive)
    done = dangan(archive, "report", "--out", str(tmp_path / "bad"))
    assert "严重" in done.stdout
    html = next((tmp_path / "bad").glob("*.html")).read_text(encoding="utf-8")
    text = next((tmp_path / "bad").glob("*.txt")).read_text(encoding="utf-8")
    data = json.loads(next((tmp_path / "bad").glob("*.json")).read_text(encoding="utf-8"))
    assert data["verdict"] == "critical" and "结论：严重" in text
    assert f"{TASK}/1.txt" in html and "<svg" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "<script" not in html
    assert "<link" not in html  # self-contained: no external CSS, JS or fonts


def test_report_digest_per_department(archive, tmp_path):
    archive.write(f"{TASK}/IMG_1.jpg", b"\xff\xd8\xff\xe0" + b"0" * 100)
    archive.write(f"{TASK}/IMG_2.jpg", b"\xff\xd8\xff\xe0" + b"1" * 100)
    assert dangan(archive, "check").returncode == 1
    dangan(archive, "report", "--out", str(tmp_path))
    data = json.loads(next(tmp_path.glob("*.json")).read_text(encoding="utf-8"))
    row = next(v for v in data["violations"] if v["rule"] == "naming.date")
    assert row["department"] == "01办公室" and row["count"] == 2 and "年月日" in row["hint"]
    assert row["days_open"] == 0
    assert data["ledger"]["01办公室"]["intake"] == 2


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self) -> None:
            self.messages: list[bytes] = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's API
            self.messages.append(envelope.content)
            return "250 OK"

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def _mail_settings(archive, port: int, recipients: str = "[admin@school.example, office@school.example]",
                   only: str = "false") -> None:
    text = archive.config.read_text(encoding="utf-8")
    for key, value in (("recipients", recipients), ("smtp_host", '"127.0.0.1"'), ("smtp_port", str(port)),
                       ("smtp_security", "none"), ("only_when_not_ok", only)):
        text = "\n".join(f"  {key}: {value}" if line.startswith(f"  {key}:") else line for line in text.splitlines())
    archive.config.write_text(text + "\n", encoding="utf-8")


def test_report_is_mailed_in_chinese_with_html_and_text(populated, smtp_server):
    controller, inbox = smtp_server
    archive = populated
    _mail_settings(archive, controller.port)
    audit(archive)
    done = dangan(archive, "report", "--send")
    assert done.returncode == 0, done.stderr
    assert len(inbox.messages) == 1
    message = email.message_from_bytes(inbox.messages[0], policy=email.policy.default)
    assert "档案完整性周报" in message["Subject"] and "结论" in message["Subject"]
    parts = {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}
    assert "结论" in parts["text/plain"] and "<svg" in parts["text/html"]


def test_only_when_not_ok_and_a_failed_send_shows_next_time(populated, smtp_server):
    controller, inbox = smtp_server
    archive = populated
    assert dangan(archive, "backup", "--verify").returncode == 0
    audit(archive)
    _mail_settings(archive, controller.port, only="true")
    assert dangan(archive, "report", "--send").returncode == 0 and inbox.messages == []  # 正常: not mailed
    _mail_settings(archive, free_port(), only="false")  # nobody listens there
    failed = dangan(archive, "report", "--send")
    assert failed.returncode == 1 and "发送失败" in failed.stderr
    _mail_settings(archive, controller.port)
    assert dangan(archive, "report", "--send").returncode == 0
    message = email.message_from_bytes(inbox.messages[-1], policy=email.policy.default)
    text = next(p.get_content() for p in message.walk() if p.get_content_type() == "text/plain")
    assert "上次周报邮件发送失败" in text


def test_metrics_text_format(populated):
    from dangan.config import loader
    from dangan.daemon import metrics
    from dangan.store.catalog import Catalog

    config = loader.load(populated.config)
    with Catalog(Path(config.state_dir) / "catalog.sqlite") as catalog:
        text = metrics.render(catalog)
        server = metrics.serve(f"127.0.0.1:{free_port()}", lambda: text)
        try:
            host, port = server.server_address[:2]
            with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as response:
                served = response.read().decode()
        finally:
            server.shutdown()
            server.server_close()  # the listening socket (shutdown only stops the loop)
    assert served == text
    assert "dangan_files 6" in text and 'dangan_last_success_timestamp_seconds{job="offsite"}' in text


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed (.ci/run installs it)")
def test_html_report_renders_in_headless_chromium(populated, tmp_path):
    from PIL import Image

    archive = populated
    flip(archive.mirror / TASK / "1.txt")
    audit(archive)
    dangan(archive, "report", "--out", str(tmp_path))
    page = next(tmp_path.glob("*.html"))
    shot = tmp_path / "shot.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    done = subprocess.run(["chromium", *flags, f"--screenshot={shot}", "--window-size=1100,1400", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert shot.exists(), done.stderr
    dom = subprocess.run(["chromium", *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert "结论：严重" in dom
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 24)
    red = sum(n for n, (r, g, b) in colours if abs(r - 0xCF) < 8 and abs(g - 0x22) < 8 and abs(b - 0x2E) < 8)
    assert red > 500  # the red verdict banner was painted


def test_threaded_hasher_matches_hashlib_across_batches_and_names_what_it_cannot_read(tmp_path):
    """The audit's hasher: big folders split into batches, nested folders, a file gone, a symlink
    (never followed), a folder gone: every digest as hashlib's, in the audit's terms."""
    import hashlib

    from dangan.store.workers import BATCH_FILES, Hasher

    root = tmp_path / "root"
    big = root / "任务" / "大"
    big.mkdir(parents=True)
    expected = {}
    for i in range(BATCH_FILES * 2 + 5):
        data = os.urandom(i * 97 + (3 << 20 if i == 7 else 0))  # one file over several 1 MiB reads
        (big / f"{i}.bin").write_bytes(data)
        expected[f"任务/大/{i}.bin".encode()] = hashlib.sha256(data).hexdigest()
    (root / "top.txt").write_bytes(b"top")
    expected[b"top.txt"] = hashlib.sha256(b"top").hexdigest()
    (tmp_path / "outside").write_bytes(b"secret")
    os.symlink(tmp_path / "outside", big / "link.bin")
    names = [(p.rpartition(b"/")[2], 0) for p in expected if p.startswith("任务/大/".encode())]
    with Hasher("sha256") as hasher:
        hasher.add(os.fsencode(root), "任务/大".encode(), names + [(b"gone.bin", 0), (b"link.bin", 0)])
        hasher.add(os.fsencode(root), b"", [(b"top.txt", 3)])
        hasher.add(os.fsencode(root), b"no/such", [(b"x", 1)])
        digests = hasher.digests()[os.fsencode(root)]
    assert {p: digests[p] for p in expected} == expected
    assert digests["任务/大/gone.bin".encode()] is None and digests[b"no/such/x"] is None
    assert digests["任务/大/link.bin".encode()].startswith("!")  # ELOOP: a symlink is not read


def test_hasher_compares_each_twin_byte_for_byte(tmp_path):
    """A twin (the mirror copy) is identical only with the same length and every byte the same; a
    twin that is missing, a symlink or in a missing folder is not; the primary's digests stay right."""
    import hashlib

    from dangan.store.hashing import CHUNK
    from dangan.store.workers import Hasher

    primary, mirror = tmp_path / "p", tmp_path / "m"
    data = os.urandom(2 * CHUNK + 99)
    twins = {"same.bin": data, "last.bin": data[:-1] + bytes([data[-1] ^ 1]),
             "first.bin": bytes([data[0] ^ 1]) + data[1:],
             "longer.bin": data + b"\0", "shorter.bin": data[:-1], "empty.bin": None}
    for folder in ("任务", "只在主盘"):
        (primary / folder).mkdir(parents=True)
        for name in twins:
            (primary / folder / name).write_bytes(data if name != "empty.bin" else b"")
    (mirror / "任务").mkdir(parents=True)
    for name, content in twins.items():
        (mirror / "任务" / name).write_bytes(content if content is not None else b"")
    (primary / "任务" / "missing.bin").write_bytes(data)
    (primary / "任务" / "link.bin").write_bytes(data)
    (tmp_path / "outside").write_bytes(data)
    os.symlink(tmp_path / "outside", mirror / "任务" / "link.bin")
    names = [(n.encode(), 0) for n in [*twins, "missing.bin", "link.bin"]]
    with Hasher("sha256") as hasher:
        for folder in ("任务", "只在主盘"):
            hasher.add(os.fsencode(primary), folder.encode(), names[:len(twins)] if folder != "任务" else names,
                       twin=os.fsencode(mirror))
        digests = hasher.digests()[os.fsencode(primary)]
    assert hasher.identical[os.fsencode(mirror)] == {"任务/same.bin".encode(), "任务/empty.bin".encode()}
    want = hashlib.sha256(data).hexdigest()
    assert digests["任务/last.bin".encode()] == want and digests["只在主盘/same.bin".encode()] == want
    assert digests["任务/empty.bin".encode()] == hashlib.sha256(b"").hexdigest()
