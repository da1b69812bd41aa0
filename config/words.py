"""Library and system errors in the reader's words (never ``[Errno 21] Is a directory`` or
``'utf-8' codec can't decode byte 0xf0``): the cause, from the message catalog."""

from __future__ import annotations

import errno

from dangan.config.messages import has, t

_ERRNO = {
    errno.ENOENT: "oserror.ENOENT", errno.EACCES: "oserror.EACCES", errno.EPERM: "oserror.EACCES",
    errno.EISDIR: "oserror.EISDIR", errno.ENOTDIR: "oserror.ENOTDIR", errno.ENOSPC: "oserror.ENOSPC",
    errno.EROFS: "oserror.EROFS", errno.EIO: "oserror.EIO", errno.ELOOP: "oserror.ELOOP",
    errno.ENAMETOOLONG: "oserror.ENAMETOOLONG", errno.EDQUOT: "oserror.ENOSPC",
    errno.EEXIST: "oserror.EEXIST", errno.ENOTEMPTY: "oserror.ENOTEMPTY", errno.EBUSY: "oserror.EBUSY",
}


def os_error(exc: OSError) -> str:
    """What an OSError means, in words (the system's own text when it is not one we know)."""
    key = _ERRNO.get(exc.errno or 0)
    return t(key) if key and has(key) else (exc.strerror or str(exc))


def decode_error(exc: UnicodeDecodeError) -> str:
    """A file that is not in the expected encoding, with where."""
    return t("oserror.not_utf8", position=exc.start + 1)


def reason(exc: BaseException) -> str:
    """Any error met while reading or writing a file, in words."""
    if isinstance(exc, UnicodeDecodeError):
        return decode_error(exc)
    if isinstance(exc, OSError):
        return os_error(exc)
    return str(exc)
