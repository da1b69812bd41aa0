"""Start-up checks of the service: everything it will need later can be read now.

A service that starts fine and then fails every night at 02:00 ("Permission denied" on the key,
because the README's steps left it owned by root while the service runs as `dangan`) is worse
than one that refuses to start and says which file and what to do. Each file is opened as the
later job opens it: by the same user, read-only, at the configured path.
"""

from __future__ import annotations

import errno
import os
import pwd
from pathlib import Path

from dangan.config.errors import EnvironmentProblem
from dangan.config.messages import t
from dangan.config.schema import Config


def needed_files(config: Config, config_path: Path) -> list[tuple[Path, str]]:
    """The files later jobs read, each with what it is (in words)."""
    files: list[tuple[Path, str]] = []
    if config.offsite.remote:
        # the same default as backup.keys.key_path: offsite.key beside the config
        key = Path(config.offsite.key_file or config_path.with_name("offsite.key"))
        files.append((key, t("preflight.what.key")))
        if config.offsite.rclone_config:
            files.append((Path(config.offsite.rclone_config), t("preflight.what.rclone_config")))
    if config.report.smtp_password_file and config.report.recipients:
        files.append((Path(config.report.smtp_password_file), t("preflight.what.smtp_password")))
    return files


def check(config: Config, config_path: Path) -> None:
    """Raise EnvironmentProblem (exit 2) naming the first file this user cannot read, and the fix."""
    user = _user()
    for path, what in needed_files(config, config_path):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise EnvironmentProblem(t("preflight.missing", what=what, path=path)) from None
        except PermissionError:
            raise EnvironmentProblem(t("preflight.denied", what=what, path=path, user=user)) from None
        except OSError as exc:
            raise EnvironmentProblem(t("preflight.other", what=what, path=path,
                                       reason=_reason(exc))) from None
        try:
            os.read(fd, 1)  # a directory opens but does not read
        except OSError as exc:
            raise EnvironmentProblem(t("preflight.other", what=what, path=path,
                                       reason=_reason(exc))) from None
        finally:
            os.close(fd)


def _user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def _reason(exc: OSError) -> str:
    if exc.errno == errno.EISDIR:
        return t("preflight.is_directory")
    return exc.strerror or str(exc)
