"""JPEG and PNG: hidden details removed losslessly, segment by segment (the pixels are not decoded
again), then the result is decoded once to be sure it is still a picture."""

from __future__ import annotations

import io
import warnings

from PIL import Image

from . import kinds
from .packages import Package, Unreadable

# A picture larger than this is not decoded (Pillow's bomb guard, made an error).
MAX_PIXELS = 64 * 1024 * 1024
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.simplefilter("error", Image.DecompressionBombWarning)

_KEPT_APP = {0xE0: (b"JFIF\x00",), 0xE2: (b"ICC_PROFILE\x00",), 0xEE: (b"Adobe",)}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


def exif_kinds(exif: Image.Exif) -> set[str]:
    found = {kinds.DEVICE}
    if exif.get_ifd(0x8825):
        found.add(kinds.LOCATION)
    if exif.get(0x013B) or exif.get(0x8298):  # Artist, Copyright
        found.add(kinds.AUTHOR)
    if exif.get(0x0132) or exif.get_ifd(0x8769).get(0x9003):  # DateTime, DateTimeOriginal
        found.add(kinds.DATES)
    if exif.get(0x0131):
        found.add(kinds.SOFTWARE)
    return found


def _app_kinds(marker: int, payload: bytes) -> set[str]:
    if marker == 0xE1 and payload.startswith(b"Exif\x00"):
        exif = Image.Exif()
        try:
            exif.load(payload[6:])
        except Exception:  # an unreadable EXIF block is still removed
            return {kinds.DEVICE}
        found = exif_kinds(exif)
        if exif.get_ifd(0x0001) or len(payload) > 20000:  # IFD1: the thumbnail's
            found.add(kinds.THUMBNAIL)
        return found
    if marker == 0xE1:
        return {kinds.XMP}
    if marker == 0xED:
        return {kinds.AUTHOR, kinds.PROPERTIES}  # Photoshop's IPTC: by-line, caption
    if marker == 0xFE:
        return {kinds.TEXT_NOTES}
    if marker == 0xE0:
        return {kinds.THUMBNAIL}
    return {kinds.OTHER}


def _segment_end(data: bytes, at: int) -> int:
    if at + 4 > len(data):
        raise Unreadable("JPEG cut short")
    return at + 2 + int.from_bytes(data[at + 2 : at + 4], "big")


def strip_jpeg(data: bytes) -> tuple[bytes, set[str]]:
    """(the JPEG without APPn segments other than JFIF, ICC and Adobe, without comments and
    without anything after its end; the kinds removed). Raises Unreadable."""
    if not data.startswith(b"\xff\xd8"):
        raise Unreadable("not a JPEG")
    out, found, at = [b"\xff\xd8"], set(), 2
    while True:
        if at + 2 > len(data) or data[at] != 0xFF:
            raise Unreadable("JPEG segment expected")
        marker = data[at + 1]
        if marker == 0xFF:
            at += 1
            continue
        if marker == 0xD9:
            out.append(b"\xff\xd9")
            if data[at + 2 :].strip(b"\x00"):
                found.add(kinds.OTHER)
            break
        if marker in _STANDALONE:
            out.append(data[at : at + 2])
            at += 2
            continue
        end = _segment_end(data, at)
        payload = data[at + 4 : end]
        kept = marker not in range(0xE0, 0xF0) and marker != 0xFE
        kept = kept or any(payload.startswith(p) for p in _KEPT_APP.get(marker, ()))
        if kept:
            out.append(data[at:end])
        else:
            found |= _app_kinds(marker, payload)
        at = end
        if marker == 0xDA:  # entropy-coded data runs to the next marker that is not a restart
            scan = at
            while True:
                scan = data.find(b"\xff", scan)
                if scan < 0 or scan + 1 >= len(data):
                    raise Unreadable("JPEG without its end")
                follower = data[scan + 1]
                if follower == 0x00 or follower in _STANDALONE or follower == 0xFF:
                    scan += 2 if follower != 0xFF else 1
                    continue
                break
            out.append(data[at:scan])
            at = scan
    return b"".join(out), found


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_KEPT = {
    b"IHDR",
    b"PLTE",
    b"IDAT",
    b"IEND",
    b"tRNS",
    b"cHRM",
    b"gAMA",
    b"iCCP",
    b"sBIT",
    b"sRGB",
    b"bKGD",
    b"pHYs",
    b"sPLT",
    b"hIST",
    b"acTL",
    b"fcTL",
    b"fdAT",
}


def _png_kinds(kind: bytes, payload: bytes) -> set[str]:
    if kind in (b"tEXt", b"zTXt", b"iTXt"):
        keyword = payload.split(b"\x00", 1)[0]
        if keyword == b"XML:com.adobe.xmp":
            return {kinds.XMP}
        named = {
            b"Author": kinds.AUTHOR,
            b"Copyright": kinds.AUTHOR,
            b"Software": kinds.SOFTWARE,
            b"Creation Time": kinds.DATES,
        }
        return {named.get(keyword, kinds.TEXT_NOTES)}
    if kind == b"eXIf":
        exif = Image.Exif()
        try:
            exif.load(payload)
        except Exception:
            return {kinds.DEVICE}
        return exif_kinds(exif)
    if kind == b"tIME":
        return {kinds.DATES}
    return {kinds.OTHER}


def strip_png(data: bytes) -> tuple[bytes, set[str]]:
    """(the PNG with only the chunks that draw it; the kinds removed). Raises Unreadable."""
    if not data.startswith(_PNG_SIGNATURE):
        raise Unreadable("not a PNG")
    out, found, at = [_PNG_SIGNATURE], set(), len(_PNG_SIGNATURE)
    while at < len(data):
        if at + 12 > len(data):
            raise Unreadable("PNG cut short")
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        end = at + 12 + length
        if end > len(data):
            raise Unreadable("PNG chunk cut short")
        if kind in _PNG_KEPT:
            out.append(data[at:end])
        elif kind[:1].isupper():  # a critical chunk this reader does not know
            raise Unreadable("unknown critical PNG chunk")
        else:
            found |= _png_kinds(kind, data[at + 8 : at + 8 + length])
        at = end
        if kind == b"IEND":
            if data[at:].strip(b"\x00"):
                found.add(kinds.OTHER)
            break
    return b"".join(out), found


def still_decodes(data: bytes) -> None:
    """Unreadable unless Pillow decodes the picture whole (within MAX_PIXELS)."""
    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.load()
    except (
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise Unreadable("not a picture") from exc


def clean_jpeg(data: bytes) -> tuple[bytes, set[str]]:
    cleaned, found = strip_jpeg(data)
    still_decodes(cleaned)
    return cleaned, found


def clean_png(data: bytes) -> tuple[bytes, set[str]]:
    cleaned, found = strip_png(data)
    still_decodes(cleaned)
    return cleaned, found


def strip_embedded_pictures(package: Package) -> None:
    """EXIF and the like removed from every JPEG and PNG inside a zip package."""
    for name, data in list(package.members.items()):
        lower = name.lower()
        if lower.endswith((".jpg", ".jpeg")):
            package.members[name], found = strip_jpeg(data)
        elif lower.endswith(".png"):
            package.members[name], found = strip_png(data)
        else:
            continue
        if found:
            package.found.add(kinds.IMAGE_DETAILS)
