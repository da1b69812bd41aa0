"""Delivering the department digests (registers/digest.py): one mail per department, to that
department's contacts only — no department's findings, names or addresses reach another's — or, as
a preview, one text and one HTML file per department in a folder."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from pathlib import Path

from dangan.config.schema import Config

from dangan.backup import mail
from dangan.registers import digest as digests
from dangan.store.atomic import write_atomic


@dataclass
class Delivery:
    """What a delivery did, department by department."""

    sent: list[tuple[str, int, int]] = field(default_factory=list)  # department, contacts, findings
    empty: list[str] = field(default_factory=list)  # nothing open: nothing sent
    no_contacts: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # department, error


def send(config: Config, gathered: list[digests.Digest], generated: str, pause: float = 2.0) -> Delivery:
    """Mail each digest to its own department's contacts (one message each, never a shared To)."""
    done = Delivery()
    for digest in gathered:
        if not digest.items and not config.report.digest_when_empty:
            done.empty.append(digest.department)
            continue
        if not digest.contacts:
            done.no_contacts.append(digest.department)
            continue
        message = mail.build(config.report, digests.subject(config, digest),
                             digests.to_text(config, digest, generated),
                             digests.to_html(config, digest, generated), to=digest.contacts)
        try:
            mail.send(config.report, message, pause=pause)
        except (OSError, smtplib.SMTPException) as exc:
            done.failed.append((digest.department, f"{type(exc).__name__}: {exc}"))
            continue
        done.sent.append((digest.department, len(digest.contacts), len(digest.items)))
    return done


def write(config: Config, gathered: list[digests.Digest], generated: str, out: Path) -> list[Path]:
    """The digests as files (``digest-<department>.txt`` and ``.html``), for a look before sending."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for digest in gathered:
        base = out / f"digest-{digest.department}"
        text, html = base.with_name(base.name + ".txt"), base.with_name(base.name + ".html")
        write_atomic(text, digests.to_text(config, digest, generated).encode("utf-8"))
        write_atomic(html, digests.to_html(config, digest, generated).encode("utf-8"))
        paths += [text, html]
    return paths
