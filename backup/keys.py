"""The off-site key: the crypt password and salt that seal the partner's copy.

Generated once by `dangan init`, stored beside the config with mode 0600 (dangan refuses to use
a key file that the group or others can read), and printed once as a recovery sheet: without it,
nobody — not the school, not the partner — can read the off-site copy again.
"""

from __future__ import annotations

import json
import secrets
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from dangan.config.errors import EnvironmentProblem
from dangan.config.messages import t
from dangan.store.atomic import write_atomic
from dangan.store.clock import local


def key_path(config_path: Path, configured: str = "") -> Path:
    """The key file: ``offsite.key_file`` when set, else ``offsite.key`` beside the config."""
    return Path(configured) if configured else config_path.with_name("offsite.key")


def require_private(path: Path) -> None:
    """Refuse a secret that others can read: it would let anyone open the partner's copy."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise EnvironmentProblem(t("key.missing", path=path)) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise EnvironmentProblem(t("secret.too_open", path=path, mode=oct(stat.S_IMODE(mode))))


@dataclass(frozen=True)
class OffsiteKey:
    """The two secrets of rclone's crypt layer (plain text; obscured only when handed to rclone)."""

    password: str
    salt: str
    created: str

    @classmethod
    def generate(cls) -> "OffsiteKey":
        return cls(secrets.token_urlsafe(32), secrets.token_urlsafe(32),
                   datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @classmethod
    def load(cls, path: Path) -> "OffsiteKey":
        require_private(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(data["password"], data["salt"], data.get("created", ""))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise EnvironmentProblem(t("key.unreadable", path=path, detail=exc)) from None

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"password": self.password, "salt": self.salt, "created": self.created,
                "note": "dangan off-site key: keep secret, keep a printed copy; without it no off-site restore"}
        write_atomic(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"), mode=0o600)

    def recovery_sheet(self, path: Path, remote: str) -> str:
        return t("key.recovery_sheet", path=path, remote=remote, password=self.password, salt=self.salt,
                 created=local(self.created, seconds=True))
