"""Errors that reach the user. Each carries finished, translated text; the CLI maps classes to
exit codes in one table (``dangan.cli.main.EXIT_CODES``)."""

from __future__ import annotations


class DanganError(Exception):
    """An error the user can act on; ``str(err)`` is the message to show, never a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(DanganError):
    """The command line was wrong."""


class ConfigError(DanganError):
    """The configuration file is missing, unreadable or invalid."""


class EnvironmentProblem(DanganError):
    """The machine is not ready: a disk not mounted, a marker missing, a folder unwritable."""


class CatalogError(DanganError):
    """The catalog database cannot be used."""
