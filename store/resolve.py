"""Opening a path below a folder in one system call, following no symlink (Linux ``openat2``).

``tree.open_dir`` and ``tree.open_file`` open every component of a path relative to the one
before with ``O_NOFOLLOW``: two system calls per component, ten for a file three folders deep.
``openat2`` with ``RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH`` makes the kernel do that walk with
the same guarantee (no symlink anywhere on the way, nothing outside the folder) in one call.
Where it is missing (Linux < 5.6, a seccomp filter) or fails for any reason, ``beneath`` returns
None and the caller walks as before, which also gives the error its usual errno: the kernel says
ELOOP for any symlink, the walk ENOTDIR for a symlinked folder.
"""

from __future__ import annotations

import ctypes
import errno
import os

SYS_OPENAT2 = 437  # since Linux 5.6; the same number on x86-64, arm64 and the other unified tables
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


def _syscall():  # noqa: ANN202 - a ctypes function or None
    try:
        function = ctypes.CDLL(None, use_errno=True).syscall
    except (OSError, AttributeError):
        return None
    function.restype = ctypes.c_long
    return function


_call = _syscall() if hasattr(os, "O_PATH") else None  # Linux only
_usable = _call is not None


def beneath(folder_fd: int, relpath: bytes, flags: int) -> int | None:
    """Open ``relpath`` below the open folder ``folder_fd`` with ``flags``, following no symlink;
    None when openat2 cannot do it (the caller then walks component by component)."""
    global _usable
    if not _usable:
        return None
    how = _OpenHow(flags, 0, RESOLVE)
    fd = _call(ctypes.c_long(SYS_OPENAT2), ctypes.c_int(folder_fd), ctypes.c_char_p(relpath),
               ctypes.byref(how), ctypes.c_size_t(ctypes.sizeof(how)))
    if fd >= 0:
        return fd
    if ctypes.get_errno() in (errno.ENOSYS, errno.EPERM):  # not here: stop trying
        _usable = False
    return None
