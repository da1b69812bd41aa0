"""Issue 13: honest and clear in everyday use — each numbered item of the issue has a test here."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from makers import Archive

from dangan.config import loader
from dangan.daemon import timetable as timetable_module
from dangan.daemon.alerts import Alerts
from dangan.daemon.timetable import Timetable
from dangan.store.catalog import Catalog
from dangan.store.layout import Layout


def _timetable(archive: Archive) -> tuple[Timetable, Alerts, Catalog]:
    config = loader.load(archive.config)
    catalog = Catalog(Layout.of(config).catalog_path)
    alerts = Alerts()
    return Timetable(config, archive.config, catalog, alerts), alerts, catalog


# -- 3. a scheduled job that cannot start is an alert with back-off; the service goes on --------
def test_job_that_cannot_spawn_is_an_alert_with_backoff(archive, tmp_path, monkeypatch, shanghai):
    # Jobs run the `dangan` beside the interpreter: here one that exec refuses (a broken install).
    not_a_program = tmp_path / "bin" / "dangan"
    not_a_program.parent.mkdir()
    not_a_program.write_text("not executable\n")
    not_a_program.chmod(0o644)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    table, alerts, catalog = _timetable(archive)
    try:
        job = table.jobs["audit"]
        job.wanted = True
        table.tick()  # must not raise
        assert job.process is None
        assert "job_audit" in alerts.active and "权限不足" in alerts.active["job_audit"]["reason"]
        assert alerts.active["job_audit"]["retry_in"] >= timetable_module.RETRY_FIRST
        assert job.failures == 1 and job.wanted
        table.tick()  # within the back-off: no second attempt
        assert job.failures == 1
    finally:
        catalog.close()


# -- 12. a partner defined by RCLONE_CONFIG_<NAME>_* variables is kept; other RCLONE_ ones are not --
def test_partner_defined_in_the_environment_is_passed_through(tmp_path, monkeypatch):
    from dangan.backup.rclone import CRYPT, Rclone, obscure

    storage = tmp_path / "storage"
    storage.mkdir()
    monkeypatch.setenv("RCLONE_CONFIG_MY_PARTNER_TYPE", "alias")
    monkeypatch.setenv("RCLONE_CONFIG_MY_PARTNER_REMOTE", str(storage))
    monkeypatch.setenv("RCLONE_DRY_RUN", "true")  # would silently write nothing: still dropped
    monkeypatch.setenv("RCLONE_CONFIG_OTHER_TYPE", "local")
    partner = Rclone("my_partner:copies", obscure("pw"), obscure("salt"))
    env = partner.env()
    assert "RCLONE_DRY_RUN" not in env and "RCLONE_CONFIG_OTHER_TYPE" not in env
    partner.run(["rcat", f"{CRYPT}:hello.txt"], input="hello")
    assert len(list((storage / "copies").iterdir())) == 1  # one encrypted file
    assert partner.run(["cat", f"{CRYPT}:hello.txt"]).stdout == "hello"


# -- 15. mail: no pause after the final attempt; STARTTLS and SSL against a real TLS server ------
def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, made here with cryptography."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Inbox:
    """aiosmtpd handler: keeps what it receives, accepts one user/password."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(envelope.content)
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult

    return AuthResult(success=auth_data.login == b"archive" and auth_data.password == b"s3cret")


def _mail_settings(archive: Archive, port: int, security: str, password_file: Path):
    config = loader.load(archive.config)
    return config.report.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": security, "smtp_user": "archive",
        "smtp_password_file": str(password_file), "recipients": ["admin@school.invalid"],
        "mail_from": "dangan@school.invalid"})


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_mail_over_tls_to_a_real_server(archive, tmp_path, monkeypatch, security):
    import socket
    import ssl

    from aiosmtpd.controller import Controller

    from dangan.backup import mail

    cert, key = _certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this server, and verifies it
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    if security == "ssl":
        # implicit TLS: the whole connection is encrypted (aiosmtpd's auth_require_tls only knows STARTTLS)
        controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=context,
                                authenticator=_authenticator, auth_require_tls=False)
    else:
        controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context,
                                require_starttls=True, authenticator=_authenticator, auth_require_tls=True)
    controller.start()
    try:
        secret = tmp_path / "smtp-password"
        secret.write_text("s3cret\n")
        secret.chmod(0o600)
        settings = _mail_settings(archive, port, security, secret)
        mail.send(settings, mail.build(settings, "档案周报", "正文", "<p>正文</p>"), attempts=1)
        assert len(inbox.messages) == 1 and b"dangan@school.invalid" in inbox.messages[0]
    finally:
        controller.stop()


def test_failed_send_does_not_pause_after_its_last_attempt(archive, tmp_path):
    import socket
    import time

    from dangan.backup import mail

    with socket.socket() as s:  # a port nobody listens on: connection refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    secret = tmp_path / "smtp-password"
    secret.write_text("x\n")
    secret.chmod(0o600)
    settings = _mail_settings(archive, port, "none", secret).model_copy(update={"smtp_user": ""})
    started = time.monotonic()
    with pytest.raises(OSError):
        mail.send(settings, mail.build(settings, "s", "t", "<p>h</p>"), attempts=2, pause=1.0)
    assert time.monotonic() - started < 2.0  # one pause of 1 s between the two attempts, none after


# -- 13. noise: watchdog's duplicate-callback warning, "missed" on a first start, overflow notes ---
def test_watchdog_duplicate_callback_warning_is_silenced_and_only_it(archive, tmp_path):
    import queue
    import warnings

    from watchdog.observers.inotify_c import InotifyConstants, InotifyFD

    from dangan.daemon.watch import Watch

    watch = Watch(archive.root, queue.SimpleQueue())
    watch.start()
    try:
        folder = tmp_path / "watched"
        folder.mkdir()
        inotify = InotifyFD()  # an instance of its own (the shared one would outlive the test)
        inotify.start()
        try:
            with warnings.catch_warnings(record=True) as seen:
                warnings.filterwarnings("always", message="another warning")  # recorded, not raised
                for _ in range(2):  # the same callback id twice: watchdog's own warning path
                    wd = inotify.add_callback(os.fsencode(folder), InotifyConstants.IN_CREATE,
                                              lambda event: None, "same")
                warnings.warn("another warning", RuntimeWarning)
            inotify.remove_callbacks([(wd, "same")])
        finally:
            inotify.stop()
            inotify.join(5)
        assert [str(w.message) for w in seen] == ["another warning"]
    finally:
        watch.stop()


def _with_offsite(config, remote: str):
    return config.model_copy(update={"offsite": config.offsite.model_copy(update={"remote": remote})})


def _log_lines() -> tuple[list[str], int]:
    from loguru import logger

    lines: list[str] = []
    return lines, logger.add(lambda message: lines.append(str(message)), level="DEBUG", format="{message}")


def test_first_start_is_not_a_missed_time(archive, tmp_path):
    from loguru import logger

    from dangan.config.messages import set_language

    set_language("zh")
    config = _with_offsite(loader.load(archive.config), str(tmp_path / "partner"))
    lines, sink = _log_lines()
    catalog = Catalog(Layout.of(config).catalog_path)
    try:
        table = Timetable(config, archive.config, catalog, Alerts())
        assert table.jobs["offsite"].wanted  # the first copy does not wait a day
    finally:
        logger.remove(sink)
        catalog.close()
    assert not any("missed" in line or "错过" in line for line in lines), lines
    assert any("异地备份" in line and "第一次" in line for line in lines), lines


def test_overflow_notes_are_aggregated():
    alerts = Alerts()
    for count in range(1, 1301):
        alerts.note("inotify_overflow", count=count)
    alerts.note("unreadable", path="a.pdf", reason="权限不足")
    overflow = [n for n in alerts.notes if n["kind"] == "inotify_overflow"]
    assert len(overflow) == 1 and overflow[0]["count"] == 1300
    assert overflow[0]["since"] <= overflow[0]["at"]
    assert len(alerts.notes) == 2


# -- 4. the service refuses to start when a file later jobs read cannot be read -----------------
def _edit_config(archive: Archive, **sections: dict) -> None:
    import yaml

    data = yaml.safe_load(archive.config.read_text(encoding="utf-8"))
    for section, values in sections.items():
        data.setdefault(section, {}).update(values)
    archive.config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_service_refuses_to_start_without_its_rclone_config(archive, tmp_path):
    import subprocess

    missing = tmp_path / "etc" / "rclone.conf"
    _edit_config(archive, offsite={"rclone_config": str(missing)})
    dangan = Path(sys.executable).with_name("dangan")
    try:
        done = subprocess.run([str(dangan), "run", "--config", str(archive.config)], capture_output=True,
                              text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the service started although its rclone config is missing")
    assert done.returncode == 2, done.stderr
    assert str(missing) in done.stderr and "rclone" in done.stderr and "Traceback" not in done.stderr


def test_start_check_names_an_unreadable_key_and_the_fix(archive):
    """The README case: offsite.key owned by root (mode 600), the service running as another user."""
    from dangan.config.errors import EnvironmentProblem
    from dangan.daemon import preflight

    config = loader.load(archive.config)
    preflight.check(config, archive.config)  # as its owner: fine
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child drops to nobody and runs the same check
        os.close(read)
        message = b"started"
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            preflight.check(config, archive.config)
        except EnvironmentProblem as exc:
            message = exc.message.encode()
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            message = repr(exc).encode()
        os.write(write, message)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        said = pipe.read().decode()
    os.waitpid(pid, 0)
    key = archive.config.with_name("offsite.key")
    assert str(key) in said and "chown nobody" in said, said


# -- 6, 7/8. times in the configured zone; alerts and logs in words, in the configured language ---
@pytest.fixture
def shanghai():
    from dangan.config.messages import set_language

    set_language("zh")
    try:
        from dangan.store import clock
    except ImportError:  # the code before issue 13 had no zone to set (the test then fails on its text)
        yield
        return
    clock.set_zone("Asia/Shanghai")
    yield
    clock.set_zone("UTC")


def test_status_text_speaks_words_and_local_time(archive, shanghai):
    import re

    from dangan.store import status

    layout = Layout.of(loader.load(archive.config))
    with Catalog(layout.catalog_path) as catalog:
        state = status.gather(layout, catalog)
    state["running"], state["pid"] = True, 4242
    state["last_reconcile"] = {"at": "2026-12-02T06:00:00.000+00:00", "seconds": 1.5, "files": 27}
    state["deletions"] = {"pending": 600, "held": {"since": "2026-12-02T06:01:00.000+00:00", "count": 600}}
    state["alerts"] = {
        "deletions_held": {"since": "2026-12-02T06:01:00.000+00:00", "count": 600},
        "job_offsite": {"since": "2026-12-02T06:02:00.000+00:00", "reason": "连接被拒绝", "retry_in": 600},
        "mirror_write": {"since": "2026-12-02T06:03:00.000+00:00", "reason": "磁盘已满", "seconds": 30},
    }
    state["notes"] = [{"kind": "inotify_overflow", "at": "2026-12-02T06:05:00.000+00:00",
                       "since": "2026-12-02T06:04:00.000+00:00", "count": 1300}]
    text = status.render(state)
    assert "2026-12-02 14:00 +08:00" in text and "+00:00" not in text, text
    assert not re.search(r"\w=\S", text), text  # no key=value internals
    assert "since" not in text and "retry_in" not in text and "count" not in text, text
    assert "dangan mirror --confirm-deletes" in text and "10 分钟后重试" in text and "1300 次" in text, text


def test_pending_deletions_without_a_hold_say_what_happens(archive, shanghai):
    from dangan.store import status

    layout = Layout.of(loader.load(archive.config))
    with Catalog(layout.catalog_path) as catalog:
        state = status.gather(layout, catalog)
    state["deletions"] = {"pending": 600, "held": None}
    line = next(x for x in status.render(state).splitlines() if "600" in x)
    assert "dangan mirror" in line and "服务未运行" in line, line


def test_service_log_lines_follow_language_and_zone(archive, shanghai):
    from loguru import logger

    from dangan.daemon import logs

    config = loader.load(archive.config).model_copy(update={"timezone": "Asia/Shanghai"})
    log = archive.base / "service.log"
    config = config.model_copy(update={"log": config.log.model_copy(update={"file": str(log)})})
    logs.setup(config)
    try:
        alerts = Alerts()
        alerts.raise_("deletions_held", count=600, since="2026-12-02T06:01:00.000+00:00")
        alerts.raise_("job_offsite", reason="连接被拒绝", retry_in=300)
        alerts.clear("job_offsite")
    finally:
        logs.setup(None)
        logger.remove()
    text = log.read_text(encoding="utf-8")
    assert "+08:00" in text and "大批删除已暂停" in text and "任务「异地备份」失败" in text, text
    assert "=" not in text and "{" not in text, text


def test_yaml_syntax_error_in_words_at_the_right_line(tmp_path, shanghai):
    from dangan.config.errors import ConfigError

    text = "language: zh\ndepartments: [办公室, 教务处\nmirror:\n  max_delete_count: 5\nlog:\n  level: INFO\n"
    with pytest.raises(ConfigError) as failed:
        loader.parse(text, tmp_path / "config.yaml")
    message = failed.value.message
    assert "第 2 行" in message and "方括号" in message, message  # the bracket opened on line 2
    assert "expected" not in message and "]'" not in message, message


@pytest.mark.parametrize("case", ["directory", "gbk"])
def test_unreadable_config_in_words(tmp_path, shanghai, case):
    from dangan.config.errors import ConfigError

    path = tmp_path / "config.yaml"
    if case == "directory":
        path.mkdir()
    else:
        path.write_bytes("language: zh\n# 档案室\n".encode("gbk") + b"\xf0\x9f")
    with pytest.raises(ConfigError) as failed:
        loader.load(path)
    message = failed.value.message
    assert str(path) in message and "Errno" not in message and "codec" not in message, message
    assert ("文件夹" if case == "directory" else "UTF-8") in message, message


def test_register_recovery_and_restore_texts_show_local_time(shanghai):
    from dangan.backup.keys import OffsiteKey
    from dangan.backup.manifest import register_sheet
    from dangan.backup.restore import RestoreReport

    sheet = register_sheet("20261202T060000.000Z", "full", "2026-12-02T06:00:00.000+00:00",
                           {"01办公室": (3, 3000)}, 3, 3000)
    assert "2026-12-02 14:00 +08:00" in sheet and "+00:00" not in sheet, sheet
    key = OffsiteKey("pw", "salt", "2026-12-02T06:00:00+00:00")
    recovery = key.recovery_sheet(Path("/etc/dangan/offsite.key"), "partner:dangan")
    assert "2026-12-02 14:00:00 +08:00" in recovery and "T06:00" not in recovery, recovery
    restored = RestoreReport("mirror", "/srv/restore", "2026-11-01 10:00").to_text()
    assert "2026-11-01 10:00:00 +08:00" in restored and "来源：镜像盘" in restored, restored


# -- 10. `dangan mirror` after a mass deletion holds it and says how to confirm -------------------
def _dangan(archive: Archive, *args: str):
    import subprocess

    dangan = str(Path(sys.executable).with_name("dangan"))
    return subprocess.run([dangan, args[0], "--config", str(archive.config), *args[1:]], capture_output=True,
                          text=True, timeout=120)


def test_dangan_mirror_holds_a_mass_deletion_and_says_how_to_confirm(archive):
    import json

    from makers import TASK
    from service_helpers import set_mirror_settings, tree_files

    set_mirror_settings(archive)
    for i in range(30):
        archive.write(f"{TASK}/{i}.pdf", f"pdf {i}".encode())
    assert _dangan(archive, "mirror").returncode == 0
    for i in range(30):
        os.unlink(archive.path(f"{TASK}/{i}.pdf"))
    done = _dangan(archive, "mirror")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "30" in done.stdout and "dangan mirror --confirm-deletes" in done.stdout, done.stdout
    state = json.loads(_dangan(archive, "status", "--format", "json").stdout)
    assert state["deletions"]["held"]["count"] == 30
    assert len(tree_files(archive.mirror)) == 30  # held, not applied
    confirmed = _dangan(archive, "mirror", "--confirm-deletes")
    assert confirmed.returncode == 0, confirmed.stdout + confirmed.stderr
    assert tree_files(archive.mirror) == {}


# -- 1. a hand-run backup brings the catalog up to date, and is never "done" with records missing --
def test_hand_run_backup_ships_files_added_while_the_service_was_stopped(archive):
    import json

    from makers import TASK

    for i in range(3):
        archive.write(f"{TASK}/{i}.pdf", f"pdf {i}".encode())
    done = _dangan(archive, "backup", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    run = json.loads(done.stdout)
    assert run["ok"] and run["total_files"] == 3 and run["files"] == 3 and run["not_shipped"] == 0, run


def test_backup_beside_a_running_service_with_records_missing_is_not_done(archive):
    from makers import TASK

    from dangan.daemon.service import ServiceLock

    layout = Layout.of(loader.load(archive.config))
    marker = layout.mirror_marker
    saved = marker.read_bytes()
    marker.unlink()  # the mirror disk away: the reconcile records the files but cannot copy them
    for i in range(4):
        archive.write(f"{TASK}/{i}.pdf", f"pdf {i}".encode())
    assert _dangan(archive, "mirror").returncode == 1
    marker.write_bytes(saved)
    lock = ServiceLock(layout.state_dir)  # a running service holds the archive (its real lock)
    assert lock.acquire()
    try:
        done = _dangan(archive, "backup")
    finally:
        lock.release()
    assert done.returncode == 1, done.stdout + done.stderr
    said = done.stdout + done.stderr
    assert "不完整" in said and "4 个文件不在这份异地副本中" in said and "镜像盘" in said, said
    assert "异地备份完成" not in said, said


# -- 7. argparse's English in Chinese ----------------------------------------------------------
def test_argparse_messages_in_chinese(archive, capsys):
    code = archive.run("backup", "--full", "--snapshot")
    said = capsys.readouterr().err
    assert code == 2
    assert "不能与" in said and "not allowed" not in said, said


# -- 16. init makes the folders the README tells staff to drop files into ------------------------
def test_init_creates_department_and_category_folders(archive, capsys):
    config = loader.load(archive.config)
    for department in config.departments:
        for category in config.categories:
            assert archive.path(f"{department}/{category}").is_dir(), (department, category)
    code, report = archive.check(capsys=capsys)
    assert code == 0 and not report["violations"], report  # empty folders are no finding


def test_init_with_the_mirror_inside_the_archive_blames_its_options(tmp_path, capsys):
    from dangan.cli.main import main

    config = tmp_path / "etc" / "config.yaml"
    code = main(["init", "--config", str(config), "--archive-root", str(tmp_path / "a"),
                 "--mirror-root", str(tmp_path / "a" / "mirror"), "--state-dir", str(tmp_path / "s")])
    said = capsys.readouterr().err
    assert code == 2 and not config.exists()
    assert "dangan init" in said and "{" not in said and "配置文件 " not in said, said


def test_a_path_that_is_not_usable_is_said_in_words(archive, capsys):
    not_a_folder = archive.base / "report-here"
    not_a_folder.write_text("a file where a folder is wanted\n")
    capsys.readouterr()
    code = archive.run("report", "--out", str(not_a_folder))
    said = capsys.readouterr().err
    assert code == 2, said
    assert str(not_a_folder) in said and "Errno" not in said and "内部错误" not in said, said
    assert "exists" not in said.replace(str(not_a_folder), ""), said  # the cause in Chinese, not strerror
