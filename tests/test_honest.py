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
from dangan.daemon.timetable import Job, Timetable
from dangan.store.catalog import Catalog
from dangan.store.layout import Layout


def _timetable(archive: Archive) -> tuple[Timetable, Alerts, Catalog]:
    config = loader.load(archive.config)
    catalog = Catalog(Layout.of(config).catalog_path)
    alerts = Alerts()
    return Timetable(config, archive.config, catalog, alerts), alerts, catalog


# -- 3. a scheduled job that cannot start is an alert with back-off; the service goes on --------
def test_job_that_cannot_spawn_is_an_alert_with_backoff(archive, tmp_path, monkeypatch):
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
        assert "job_audit" in alerts.active
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
        controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                                authenticator=_authenticator, auth_require_tls=True)
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
        inotify = InotifyFD.get_instance()
        with warnings.catch_warnings(record=True) as seen:
            for _ in range(2):  # the same callback id twice: watchdog's own warning path
                wd = inotify.add_callback(os.fsencode(folder), InotifyConstants.IN_CREATE, lambda event: None,
                                          "same")
            warnings.warn("another warning", RuntimeWarning)
        inotify.remove_callbacks([(wd, "same")])
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
    assert any("offsite" in line and "第一次" in line for line in lines), lines


def test_overflow_notes_are_aggregated():
    alerts = Alerts()
    for count in range(1, 1301):
        alerts.note("inotify_overflow", count=count)
    alerts.note("unreadable", path="a.pdf", reason="权限不足")
    overflow = [n for n in alerts.notes if n["kind"] == "inotify_overflow"]
    assert len(overflow) == 1 and overflow[0]["count"] == 1300
    assert overflow[0]["since"] <= overflow[0]["at"]
    assert len(alerts.notes) == 2
