"""TIFF: every page's pixels written into a fresh TIFF (Pillow, lossless: the pages' compression
where Pillow can write it and every page has the same, else Deflate) that carries only the tags a
picture needs, so the EXIF and GPS directories, Artist, Make, Model, DateTime, Software,
descriptions, XMP, IPTC and Photoshop blocks are gone. The kinds are read from every page's tags.
A BigTIFF (64-bit offsets) is read the same way and written as a classic TIFF: a file within
SIZE_CAP is far inside its 4 GiB."""

from __future__ import annotations

import io

from PIL import Image, ImageSequence, TiffImagePlugin

from . import kinds
from .images import MAX_PIXELS
from .packages import Unreadable

MAX_PAGES = 1000
# Tag -> the kind it holds (TIFF 6.0 and the EXIF, XMP and IPTC extensions).
_TAG_KINDS = {
    269: kinds.PATHS,  # DocumentName
    270: kinds.PROPERTIES,  # ImageDescription
    271: kinds.DEVICE,  # Make
    272: kinds.DEVICE,  # Model
    285: kinds.PROPERTIES,  # PageName
    305: kinds.SOFTWARE,  # Software
    306: kinds.DATES,  # DateTime
    315: kinds.AUTHOR,  # Artist
    316: kinds.DEVICE,  # HostComputer
    700: kinds.XMP,
    33432: kinds.AUTHOR,  # Copyright
    33723: kinds.PROPERTIES,  # IPTC
    34377: kinds.PROPERTIES,  # Photoshop
    34665: kinds.DEVICE,  # the EXIF directory
    34853: kinds.LOCATION,  # the GPS directory
}
# Pillow writes these compressions losslessly; a page in any other (zstd, lzma, JPEG, WebP) is
# written with Deflate: uncompressed, a 52 KB zstd file became 130 MB (issue 26 review, M1).
_WRITABLE = {"raw", "tiff_lzw", "tiff_adobe_deflate", "packbits", "group3", "group4"}
_LOSSLESS = "tiff_adobe_deflate"  # any mode, and about LZW's size or smaller


def clean_tiff(data: bytes) -> tuple[bytes, set[str]]:
    """(the TIFF or BigTIFF, as a classic TIFF without its metadata tags, every page kept; the
    kinds removed). Raises Unreadable (not a TIFF Pillow reads, more than MAX_PAGES pages or
    MAX_PIXELS a page)."""
    try:
        source = Image.open(io.BytesIO(data))
        if not isinstance(source, TiffImagePlugin.TiffImageFile):
            raise Unreadable("not a TIFF")
        found: set[str] = set()  # from every page's tags, the first's included
        pages = []
        for number, page in enumerate(ImageSequence.Iterator(source)):
            if number >= MAX_PAGES or page.width * page.height > MAX_PIXELS:
                raise Unreadable("too many pages or pixels")
            compression = page.info.get("compression", "raw")
            found |= {kind for tag, kind in _TAG_KINDS.items() if tag in page.tag_v2}
            fresh = page.copy()  # an Image, not a TiffImageFile: no tags come with it
            # The colour profile and resolution say how to show it, not who made it.
            fresh.info = {k: page.info[k] for k in ("icc_profile", "dpi") if page.info.get(k)}
            pages.append((fresh, compression))
        if not pages:
            raise Unreadable("a TIFF without pages")
        out = io.BytesIO()
        first, compression = pages[0]
        # Pillow writes every page with one compression: the pages' own only if all share it.
        if compression not in _WRITABLE or any(other != compression for _, other in pages):
            compression = _LOSSLESS
        shown = {"dpi": first.info["dpi"]} if "dpi" in first.info else {}
        first.save(
            out, "TIFF", compression=compression, save_all=len(pages) > 1, **shown,
            append_images=[page for page, _ in pages[1:]],
        )
    except Unreadable:
        raise
    except Exception as exc:  # Pillow raises many kinds for a hostile file
        raise Unreadable("not a readable TIFF") from exc
    return out.getvalue(), found
