"""How heavy a file's hidden-details check will be, read from what the file declares, before the
check starts (issue 22): whether it may take the place kept for small checks
(portal.intake.file_cleaning). Nothing is decoded here but the zip members a small package
declares (each at most the small bound, all together too): the rest is headers.

A bomb hides its size in what it declares: a package inside a package (the outer zip's directory
names only the inner file's compressed bytes, the inner one declares the rest), or a small picture
of huge dimensions. Both are read here: zip directories recursively, and a picture's dimensions
from its header. Only kinds whose size is read here may take the small place (an allow-list: a
JPEG, a PNG, a zip package read whole); every other kind (PDF, GIF, WebP, OLE, TIFF, HEIC, one of
no kind named) takes an ordinary place, as does a picture whose header cannot be read (issue 22
review, L1: PDF, GIF, WebP and OLE files, whose size was not read, took the small place)."""

from __future__ import annotations

import io
import zipfile

# A JPEG or PNG is decoded once whole (images.still_decodes): up to this many bytes of pixels it
# takes about 0.3 s of CPU here (a 4096 x 4096 RGB PNG, 48 MiB, 0.13-0.21 s; its JPEG 0.09 s),
# far inside the small check's bound, and a 16-megapixel photo stays within it.
SMALL_DECODED_BYTES = 64 * 1024 * 1024
# A progressive JPEG is decoded once per scan: a photo has about ten; a bomb thousands.
SMALL_JPEG_SCANS = 32
_PNG = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by colour type
# SOFn markers (a frame's dimensions); not DHT (C4), JPG (C8) or DAC (CC).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
               NotImplementedError, RuntimeError)
_ZIP = b"PK\x03\x04"


def small_check(data: bytes, most: int) -> bool:
    """Whether checking `data` stays small: at most `most` bytes read (a zip package's members'
    declared sizes, those of every package inside it included) and, for a picture, at most
    SMALL_DECODED_BYTES of pixels (and SMALL_JPEG_SCANS scans) decoded. Only a zip package, a
    PNG or a JPEG can be small; False for a file larger than `most` and for every other kind."""
    if len(data) > most:
        return False
    if data.startswith(_ZIP):
        return package_bytes(data, most) <= most
    if data.startswith(_PNG):
        return _png_bytes(data) <= SMALL_DECODED_BYTES
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg_bytes(data) <= SMALL_DECODED_BYTES
    return False  # a kind whose size is not read here: PDF, GIF, WebP, OLE, TIFF, HEIC, others


def package_bytes(data: bytes, most: int) -> int:
    """The bytes a zip package's check reads, as far as `most` matters: the larger of its size and
    its members' declared uncompressed sizes together, each member that is itself a zip counted
    with its own members (and so on): more than `most` as soon as they pass it. A member is read
    only while the declared total is within `most`, so at most `most` bytes are inflated in all
    (zipfile reads no more of a member than its entry declares, and checks its CRC). Not a
    readable zip: more than `most`."""
    left = [most]  # what may still be declared before the answer is "more than most"
    try:
        declared = _declared(data, left)
    except _ZIP_ERRORS:  # not read here whole (damaged, encrypted): not known to be small
        return max(len(data), most + 1)
    return max(len(data), declared)


def _declared(data: bytes, left: list[int]) -> int:
    """The members' declared sizes of the zip `data`, nested packages' included; past left[0] the
    sum so far (more than allowed), without reading further."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    infos = archive.infolist()
    total = sum(info.file_size for info in infos)
    left[0] -= total
    if left[0] < 0:
        return total
    for info in infos:
        if info.is_dir() or info.file_size < len(_ZIP):
            continue
        with archive.open(info) as member:
            if member.read(len(_ZIP)) != _ZIP:
                continue
        inner = archive.read(info)  # within the declared total, so within the bound
        total += _declared(inner, left)
        if left[0] < 0:
            break
    return total


def _png_bytes(data: bytes) -> int:
    """The pixels' bytes a PNG's header (IHDR, always first) declares; past the bound if absent."""
    if len(data) < 29 or data[12:16] != b"IHDR":
        return SMALL_DECODED_BYTES + 1
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    depth, colour = data[24], data[25]
    channels = _PNG_CHANNELS.get(colour, 4)
    return width * height * channels * max(depth, 8) // 8


def _jpeg_bytes(data: bytes) -> int:
    """The pixels' bytes of the largest frame a JPEG declares before its first scan (a frame
    header of no height, or none, or too many scans: past the bound). The scans are counted as
    their markers: entropy-coded data stuffs every 0xFF with a zero, so 0xFFDA is only ever one."""
    if data.count(b"\xff\xda") > SMALL_JPEG_SCANS:
        return SMALL_DECODED_BYTES + 1
    largest, at = 0, 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xFF:
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        if marker in (0xD9, 0xDA):  # the end, or the first scan: every frame header is before
            break
        end = at + 2 + int.from_bytes(data[at + 2 : at + 4], "big")
        if marker in _SOF and at + 10 <= len(data):
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            width = int.from_bytes(data[at + 7 : at + 9], "big")
            components = data[at + 9]
            if height == 0:  # the height comes later (a DNL marker): not read here
                return SMALL_DECODED_BYTES + 1
            largest = max(largest, width * height * max(components, 1))
        at = end
    return largest if largest else SMALL_DECODED_BYTES + 1
