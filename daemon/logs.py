"""Logging with loguru: journald priority prefixes under systemd, a readable format otherwise,
an optional rotating file; the standard library's and libraries' loggers are routed through it."""

from __future__ import annotations

import logging
import os
import sys
import unicodedata
from datetime import timedelta, timezone

from loguru import logger

from dangan.config.messages import has, t
from dangan.config.schema import Config
from dangan.store import clock

# sd-daemon(3) priorities, understood by journald on stderr when JOURNAL_STREAM is set.
# The level in the configured language (信息, 警告, 错误): staff read this log too.
FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS Z} {extra[level]} {message}"  # loguru appends the exception
PRIORITY = {"TRACE": 7, "DEBUG": 7, "INFO": 6, "SUCCESS": 5, "WARNING": 4, "ERROR": 3, "CRITICAL": 2}


class _ToLoguru(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


def _level(name: str) -> str:
    """The level's name in the configured language, padded to 7 columns (a CJK character takes two)."""
    shown = t(f"log.level.{name}") if has(f"log.level.{name}") else name
    width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in shown)
    return shown + " " * max(7 - width, 0)


def setup(config: Config | None) -> None:
    level = config.log.level if config else "INFO"
    logger.remove()
    if config is not None:
        clock.set_zone(config)
    zone = clock.zone()

    def in_zone(record: dict) -> None:
        # Log times in the configured zone, with its offset (the service's own TZ may be UTC).
        # (rebuilt as loguru's own datetime class, which formats its tokens, in the fixed offset of
        # that moment: loguru asks the tzinfo for utcoffset(None), which a ZoneInfo cannot answer)
        moment = record["time"]
        offset = timezone(moment.astimezone(zone).utcoffset() or timedelta(0))
        record["time"] = type(moment).fromtimestamp(moment.timestamp(), offset)
        record["extra"]["level"] = _level(record["level"].name)

    logger.configure(patcher=in_zone)
    if os.environ.get("JOURNAL_STREAM"):
        def journal_format(record: dict) -> str:
            # "\<" : a literal "<", not the start of one of loguru's colour tags
            return f"\\<{PRIORITY.get(record['level'].name, 6)}>{{message}}\n{{exception}}"

        logger.add(sys.stderr, level=level, format=journal_format, colorize=False)
    else:
        logger.add(sys.stderr, level=level, colorize=False,
                   format=FORMAT)
    if config and config.log.file:
        logger.add(config.log.file, level=level, rotation="10 MB", retention=10, encoding="utf-8",
                   format=FORMAT)
    logging.basicConfig(handlers=[_ToLoguru()], level=logging.WARNING, force=True)
