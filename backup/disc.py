"""Disc images of an offline set: ISO 9660 (with Rock Ridge names) and UDF 2.60 in one image (pycdlib),
ready for any burner software. Each image holds one complete bag, so every disc can be read alone.

ISO 9660 itself cannot carry Chinese or long names: its tree uses short generated names (``D1``,
``F1``) and Rock Ridge (Linux, macOS) and UDF (every system since Windows XP) carry the bag's real
names. dangan reads its images back through UDF.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pycdlib
from pycdlib.pycdlibexception import PyCdlibException

from dangan.store.atomic import create_temp, unlink_quietly

# What one disc holds (bytes): a single-layer BD-R, a single-layer DVD±R.
CAPACITY = {"bd25": 25_025_314_816, "dvd": 4_700_372_992}
SECTOR = 2048
IMAGE_OVERHEAD = 1 << 20  # the volume descriptors and the UDF structures of an image, about
ENTRY_OVERHEAD = 3 * SECTOR  # a file's or folder's entries: ISO 9660 + Rock Ridge, UDF file entry, UDF identifier
Error = PyCdlibException  # what a malformed image raises besides OSError


def on_disc(size: int) -> int:
    """What a file of ``size`` bytes takes on a disc: whole sectors and its entries."""
    return -(-size // SECTOR) * SECTOR + ENTRY_OVERHEAD


def pack(staged: Path, names: Iterable[str], folder: int, image: str, volume: str) -> int:
    """Write the bag staged in ``staged`` (its files: ``names``) as the image ``image`` in the open
    ``folder``, atomically (a temp name, fsync, rename); return the image's size."""
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=4, vol_ident=_volume(volume), rock_ridge="1.09", udf="2.60")
    names = sorted(names)
    folders = sorted({"/".join(n.split("/")[:i]) for n in names for i in range(1, n.count("/") + 1)},
                     key=lambda f: (f.count("/"), f))
    short = {"": ""}
    for number, path in enumerate(folders, 1):
        parent, _, base = path.rpartition("/")
        short[path] = f"{short[parent]}/D{number}"
        iso.add_directory(short[path], rr_name=base, udf_path=f"/{path}")
    for number, name in enumerate(names, 1):
        parent, _, base = name.rpartition("/")
        iso.add_file(str(staged / name), iso_path=f"{short[parent]}/F{number}.;1", rr_name=base,
                     udf_path=f"/{name}", file_mode=0o100444)
    fd, temp = create_temp(folder, 0o644)
    try:
        with os.fdopen(os.dup(fd), "wb") as out:
            iso.write_fp(out)
            out.flush()
            os.fsync(out.fileno())
        size = os.fstat(fd).st_size
        os.close(fd)
        fd = -1
        os.rename(temp, image, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        unlink_quietly(folder, temp)
        raise
    finally:
        iso.close()
    os.fsync(folder)
    return size


def _volume(label: str) -> str:
    """A volume name ISO 9660 accepts (d-characters, at most 32): the label's ASCII, else DANGAN."""
    text = re.sub(r"[^A-Z0-9_]", "_", label.upper()).strip("_")
    return (text or "DANGAN")[:32]


class ImageBag:
    """A bag inside a disc image, read through UDF (``backup/bag.py`` BagSource)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self._file = open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC), "rb")
        self._iso = pycdlib.PyCdlib()
        try:
            self._iso.open_fp(self._file)
        except BaseException:
            self._file.close()
            raise

    def read(self, name: str) -> bytes:
        return b"".join(self.chunks(name))

    def chunks(self, name: str) -> Iterator[bytes]:
        try:
            with self._iso.open_file_from_iso(udf_path=f"/{name}") as stream:
                while chunk := stream.read(1 << 20):
                    yield chunk
        except PyCdlibException as exc:
            raise OSError(2, str(exc), name) from None

    def close(self) -> None:
        self._iso.close()
        self._file.close()
