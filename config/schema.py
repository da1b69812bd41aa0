"""The configuration's shape. Values and their documentation live in ``default.yaml``; this module
only says what is valid, so that every problem in a config file is found in one pass."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from datetime import datetime
from pathlib import PurePosixPath
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from dangan.config.rule_ids import RULE_IDS

# Characters a shell gives meaning to. rclone-python runs its commands with shell=True, so any value
# that reaches a command line (remote name, root paths) must be free of them.
SHELL_METACHARACTERS = frozenset("$`\"'\\;&|<>(){}*?[]!#~\n\r\t")


def _fail(key: str, **ctx: object) -> PydanticCustomError:
    # The message template is a key of the message catalog; the loader renders it.
    return PydanticCustomError("dangan", key, ctx)


def _no_shell_chars(value: str) -> str:
    bad = sorted({c for c in value if c in SHELL_METACHARACTERS})
    if bad:
        raise _fail("config.shell_chars", chars=" ".join(repr(c) for c in bad))
    return value


def _absolute(value: str) -> str:
    if not value.startswith("/"):
        raise _fail("config.want_absolute")
    return os.path.normpath(value)


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail("config.bad_timezone") from None
    return value


def _hash_available(value: str) -> str:
    try:
        hashlib.new(value)
    except ValueError:
        raise _fail("config.bad_hash") from None
    return value


def _unique_names(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for item in values:
        if not item.strip():
            raise _fail("config.empty_item")
        if item in seen:
            raise _fail("config.duplicate_item", item=item)
        seen.add(item)
    return values


def _addresses(values: list[str]) -> list[str]:
    # one address per item: "a@x.cn, b@x.cn" in one string would reach the SMTP server as one bad address
    for item in values:
        if not re.fullmatch(r"[^@\s,;<>]+@[^@\s,;<>]+", item):
            raise _fail("config.bad_address", item=item)
    return values


def _extension(value: object) -> object:
    # Accept ".PDF" as a courtesy; store the canonical form.
    return value.strip().lstrip(".").lower() if isinstance(value, str) else value


def _known_rule(value: str) -> str:
    if value not in RULE_IDS:
        close = difflib.get_close_matches(value, RULE_IDS, n=1)
        raise _fail("config.unknown_rule", suggestion=f" → {close[0]}" if close else "")
    return value


def _none_as_empty(value: object) -> object:
    return "" if value is None else value


AbsolutePath = Annotated[str, AfterValidator(_absolute), AfterValidator(_no_shell_chars)]
Extension = Annotated[str, BeforeValidator(_extension), Field(pattern=r"^[a-z0-9]+$")]
RuleId = Annotated[str, AfterValidator(_known_rule)]
Names = Annotated[list[str], AfterValidator(_unique_names)]


class _Section(BaseModel):
    # No infinity or NaN anywhere: every number is bounded at load (an infinite timeout once
    # passed validation and ended the backup in an internal error).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class RulesConfig(_Section):
    """The filing rules' settings (``rules:``)."""

    disabled: list[RuleId]
    severity: dict[RuleId, Literal["error", "warning"]]
    allowed_extensions: list[Extension]
    photo_extensions: list[Extension]
    video_extensions: list[Extension]
    audio_extensions: list[Extension]
    scan_only_keywords: Names
    scan_min_dpi: Annotated[int, Field(ge=1, le=10000)]
    name_max_bytes: Annotated[int, Field(ge=16, le=255)]
    description_extensions: list[Extension]
    description_fields: Names
    ignore_patterns: list[str]


def _clock(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise _fail("config.bad_clock")
    return value


def _month_day(value: str) -> str:
    try:
        datetime.strptime("2024-" + value, "%Y-%m-%d")  # a leap year: 02-29 is a real day
    except ValueError:
        raise _fail("config.bad_month_day") from None
    return value


def _bwlimit(value: str) -> str:
    # rclone's own timetable syntax ("08:00,512k 18:00,off"), nothing a shell would act on
    if not re.fullmatch(r"[0-9A-Za-z:,.\- ]*", value):
        raise _fail("config.bad_bwlimit")
    return value


Retention = Literal["永久", "长期", "短期"]


class OffsiteConfig(_Section):
    """The partner site and the backup policy (``offsite:``)."""

    remote: Annotated[str, BeforeValidator(_none_as_empty), AfterValidator(_no_shell_chars)]
    rclone_config: Annotated[str, BeforeValidator(_none_as_empty), AfterValidator(_no_shell_chars)]
    key_file: Annotated[str, BeforeValidator(_none_as_empty), AfterValidator(_no_shell_chars)]
    daily_at: Annotated[str, AfterValidator(_clock)]
    full_every_days: Annotated[int, Field(ge=1, le=3660)]
    snapshot_on: Annotated[str, AfterValidator(_month_day)]
    bwlimit: Annotated[str, BeforeValidator(_none_as_empty), AfterValidator(_bwlimit)]
    timeout_minutes: Annotated[float, Field(gt=0, le=10080)]  # at most a week per transfer
    retries: Annotated[int, Field(ge=0, le=100)]
    verify: Literal["cryptcheck", "sample"]
    sample_share: Annotated[float, Field(gt=0, le=1)]
    max_age_hours: Annotated[float, Field(gt=0, le=8784)]  # at most a year
    retention_default: Retention
    retention_rules: dict[str, Retention]


class MirrorConfig(_Section):
    """The real-time mirror and its guards (``mirror:``)."""

    settle_seconds: Annotated[float, Field(ge=0.1, le=3600)]
    reconcile_minutes: Annotated[float, Field(ge=1, le=10080)]
    delete_delay_seconds: Annotated[float, Field(ge=0, le=3600)]
    max_delete_count: Annotated[int, Field(ge=1, le=1_000_000_000)]
    max_delete_share: Annotated[float, Field(gt=0, le=1)]
    keep_versions_days: Annotated[int, Field(ge=0, le=36600)]  # 0: for ever; else at most a century
    retry_max_seconds: Annotated[float, Field(ge=1, le=86400)]
    stall_seconds: Annotated[float, Field(ge=1, le=86400)]


class DrillConfig(_Section):
    """Restore drills (``drill:``)."""

    share: Annotated[float, Field(gt=0, le=1)]
    min_files: Annotated[int, Field(ge=1, le=1_000_000_000)]
    every_days: Annotated[int, Field(ge=1, le=3660)]
    at: Annotated[str, AfterValidator(_clock)]


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _loopback(value: str) -> str:
    if value and not re.fullmatch(r"(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d{1,5}", value):
        raise _fail("config.not_loopback")
    return value


class AuditConfig(_Section):
    """The weekly fixity audit (``audit:``)."""

    weekday: Weekday
    at: Annotated[str, AfterValidator(_clock)]
    auto_repair: bool
    clamd_socket: Annotated[str, BeforeValidator(_none_as_empty)]


class ReportConfig(_Section):
    """The weekly integrity report and its delivery (``report:``)."""

    weekday: Weekday
    at: Annotated[str, AfterValidator(_clock)]
    recipients: list[str]
    only_when_not_ok: bool
    mail_from: str
    smtp_host: Annotated[str, BeforeValidator(_none_as_empty)]
    smtp_port: Annotated[int, Field(ge=1, le=65535)]
    smtp_security: Literal["starttls", "ssl", "none"]
    smtp_user: Annotated[str, BeforeValidator(_none_as_empty)]
    smtp_password_file: Annotated[str, BeforeValidator(_none_as_empty)]
    # issue 17.5: each department's own open findings, mailed to its contacts after the report
    department_contacts: dict[str, Annotated[list[str], AfterValidator(_unique_names), AfterValidator(_addresses)]]
    digest_when_empty: bool


class MetricsConfig(_Section):
    """Monitoring (``metrics:``)."""

    textfile: Annotated[str, BeforeValidator(_none_as_empty)]
    listen: Annotated[str, BeforeValidator(_none_as_empty), AfterValidator(_loopback)]


class LogConfig(_Section):
    """Logging (``log:``)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"]
    file: Annotated[str, BeforeValidator(_none_as_empty)]


def _chain(path: str) -> list[tuple[int, int]]:
    """(device, inode) of ``path``'s real place and of every folder above it that exists."""
    chain = []
    current = os.path.realpath(path)
    while True:
        try:
            st = os.stat(current)
            chain.append((st.st_dev, st.st_ino))
        except OSError:
            pass
        parent = os.path.dirname(current)
        if parent == current:
            return chain
        current = parent


def contains(outer: str | os.PathLike, inner: str | os.PathLike) -> bool:
    """Whether ``inner`` is ``outer`` or lies inside it, by where both really are: symlinks resolved,
    and compared by device and inode, so that a bind mount of a folder counts as that folder."""
    real_outer, real_inner = os.path.realpath(outer), os.path.realpath(inner)
    if real_inner == real_outer or real_inner.startswith(real_outer.rstrip("/") + "/"):
        return True
    try:
        st = os.stat(real_outer)
    except OSError:
        st = None
    if st is not None and (st.st_dev, st.st_ino) in _chain(real_inner):
        return True
    # A bind mount shows a folder somewhere else: compare where both lie within their file system.
    place_outer, place_inner = _fs_place(real_outer), _fs_place(real_inner)
    if place_outer is None or place_inner is None or place_outer[0] != place_inner[0]:
        return False
    return place_inner[1] == place_outer[1] or place_inner[1].startswith(place_outer[1].rstrip("/") + "/")


def _fs_place(real: str) -> tuple[str, str] | None:
    """(device, path within that file system) of an absolute real path, from /proc/self/mountinfo."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as mounts:
            lines = mounts.read().splitlines()
    except OSError:
        return None
    best: tuple[str, str, str] | None = None
    for line in lines:
        fields = line.split()
        if len(fields) < 5:
            continue
        device, root, point = fields[2], _unescape(fields[3]), _unescape(fields[4])
        if real == point or real.startswith(point.rstrip("/") + "/"):
            if best is None or len(point) >= len(best[2]):  # the deepest, and of equals the last mounted
                best = (device, root, point)
    if best is None:
        return None
    device, root, point = best
    rest = real[len(point):].lstrip("/")
    return device, (root.rstrip("/") + "/" + rest) if rest else root


def _unescape(field: str) -> str:
    # mountinfo writes space, tab, newline and backslash as octal escapes
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


class Config(_Section):
    """A validated dangan configuration. Build it with :func:`dangan.config.loader.load`."""

    language: Literal["zh", "en"]
    school: Annotated[str, BeforeValidator(_none_as_empty)]
    timezone: Annotated[str, AfterValidator(_timezone)]
    archive_root: AbsolutePath
    mirror_root: AbsolutePath
    state_dir: AbsolutePath
    hash_algorithm: Annotated[Literal["sha256", "sm3"], AfterValidator(_hash_available)]
    departments: Names
    categories: Names
    rules: RulesConfig
    offsite: OffsiteConfig
    mirror: MirrorConfig
    drill: DrillConfig
    audit: AuditConfig
    report: ReportConfig
    metrics: MetricsConfig
    log: LogConfig

    @model_validator(mode="after")
    def _roots_apart(self) -> "Config":
        # A mirror inside the archive would mirror itself forever; a state folder inside the
        # archive would be checked as records. Keep the three apart.
        roots = [("archive_root", self.archive_root), ("mirror_root", self.mirror_root), ("state_dir", self.state_dir)]
        for i, (name_a, a) in enumerate(roots):
            for name_b, b in roots[i + 1 :]:
                pa, pb = PurePosixPath(a), PurePosixPath(b)
                if pa == pb or pa in pb.parents or pb in pa.parents:
                    raise _fail("config.nested_roots", a=name_a, b=name_b)
        # The same by where they really are: a symlink or a bind mount makes two paths that look
        # apart one place (a mirror root linked into the archive would mirror itself forever).
        for i, (name_a, a) in enumerate(roots):
            for name_b, b in roots[i + 1 :]:
                if contains(a, b) or contains(b, a):
                    raise _fail("config.same_place_roots", a=name_a, pa=os.path.realpath(a), b=name_b,
                                pb=os.path.realpath(b))
        return self

    @model_validator(mode="after")
    def _contacts_of_departments(self) -> "Config":
        # A digest for a department the archive does not have would never carry a finding.
        unknown = [name for name in self.report.department_contacts if name not in self.departments]
        if unknown:
            raise _fail("config.contacts_department", names="、".join(unknown))
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
