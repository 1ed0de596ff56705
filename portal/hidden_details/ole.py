"""OLE objects embedded in Office and OpenDocument packages (oleObject1.bin; an old .doc, .xls or
.ppt; OpenDocument's "Object 1" from Office). Each is a compound file (MS-CFB) of its own: a whole
old document with its author, "last saved by" paths and revision names, or a packaged file with the
path it came from. Nothing here cleans one (olefile rewrites a stream only at its own length, and
the details sit inside each old format's own tables), so its content is replaced by an empty OLE
storage: every part and relationship of the document still holds, and the document shows the
object's preview picture, which opens to nothing."""

from __future__ import annotations

import struct

from . import kinds
from .packages import Package

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _empty_ole_storage() -> bytes:
    """A compound file (MS-CFB version 3, 512-byte sectors) holding only its empty root storage:
    the header, one FAT sector and one directory sector, 1,536 bytes."""
    free, end_of_chain, fat_sector, no_stream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII", OLE_MAGIC, bytes(16), 0x3E, 3, 0xFFFE, 9, 6, bytes(6),
        0, 1, 1, 0, 0x1000, end_of_chain, 0, end_of_chain, 0,
    ) + struct.pack("<109I", 0, *[free] * 108)  # the FAT is sector 0
    fat = struct.pack("<128I", fat_sector, end_of_chain, *[free] * 126)  # directory: sector 1
    entry = "<64sHBBIII16sIQQIQ"
    name = "Root Entry".encode("utf-16-le") + b"\x00\x00"
    root = struct.pack(entry, name, len(name), 5, 1, no_stream, no_stream, no_stream, bytes(16),
                       0, 0, 0, end_of_chain, 0)
    unused = struct.pack(entry, b"", 0, 0, 0, no_stream, no_stream, no_stream, bytes(16),
                         0, 0, 0, 0, 0)
    return header + fat + root + unused * 3


EMPTY_OLE_STORAGE = _empty_ole_storage()


def empty_ole_objects(package: Package, names: list[str]) -> None:
    """Each of `names` that is an OLE object (it starts as a compound file, or is named .bin)
    replaced by EMPTY_OLE_STORAGE, said as "other hidden data"."""
    for name in names:
        data = package.members[name]
        ole = data.startswith(OLE_MAGIC) or name.lower().endswith(".bin")
        if ole and data != EMPTY_OLE_STORAGE:
            package.members[name] = EMPTY_OLE_STORAGE
            package.found.add(kinds.OTHER)
