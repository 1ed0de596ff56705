"""HEIC/HEIF (pillow-heif, on libheif: libde265 decodes, x265 encodes): every top-level picture
decoded (turned upright as the file says) and encoded again into a fresh HEIF that holds only the
pictures, their bit depth and their colour profile, so EXIF (GPS, camera, dates, software), XMP,
IPTC and any other metadata block, the embedded thumbnails, depth maps and auxiliary pictures (an
HDR gain map) are gone. HEVC is lossy, so the pixels are encoded again at QUALITY: the picture is
the same to the eye and in size, not to the byte. The kinds are read from every picture's blocks."""

from __future__ import annotations

import io

from PIL import Image

from . import kinds
from .images import MAX_PIXELS, exif_kinds
from .packages import Unreadable

MAX_PICTURES = 64
QUALITY = 92
# One encoding thread, whatever the machine: x265's pools and frame threads otherwise grow with
# the cores, each with its own stack and arena, past the child's address space; 512-pixel tiles
# (as phones write them) keep the encoder's buffers to one tile. "ultrafast" encodes a 12-megapixel
# photo in about 3 s of CPU (the default preset takes about 17 s, near CPU_SECONDS).
_ENCODER = {"preset": "ultrafast", "x265:pools": "1", "x265:frame-threads": "1"}
_TILE = 512
def _found(info: dict) -> set[str]:
    found: set[str] = set()
    if info.get("exif"):
        exif = Image.Exif()
        try:
            exif.load(info["exif"])
            found |= exif_kinds(exif)
        except Exception:  # an unreadable EXIF block is still removed
            found.add(kinds.DEVICE)
    if info.get("xmp"):
        found.add(kinds.XMP)
    for block in info.get("metadata") or ():
        found.add(kinds.PROPERTIES if block.get("type") == "iptc" else kinds.OTHER)
    if info.get("thumbnails"):
        found.add(kinds.THUMBNAIL)
    if info.get("depth_images") or info.get("aux"):
        found.add(kinds.OTHER)
    return found


def clean_heic(data: bytes) -> tuple[bytes, set[str]]:
    """(a fresh HEIF with the same pictures, sizes, bit depths and colour profiles and no metadata
    block, thumbnail, depth map or auxiliary picture; the kinds removed). Raises Unreadable (not
    a HEIF libheif decodes, more than MAX_PICTURES pictures or MAX_PIXELS in all)."""
    import pillow_heif  # in the child only, once its limits hold

    try:
        source = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False)
        pictures = list(source)
        if not pictures or len(pictures) > MAX_PICTURES:
            raise Unreadable("no pictures or too many")
        if sum(p.size[0] * p.size[1] for p in pictures) > MAX_PIXELS:
            raise Unreadable("too many pixels")
        found: set[str] = set()
        fresh = pillow_heif.HeifFile()
        for picture in pictures:
            found |= _found(picture.info)
            picture.load()
            added = fresh.add_frombytes(
                picture.mode, picture.size, picture.data, stride=picture.stride
            )
            # How to show it, not who made it: bit depth, colour profile, chroma subsampling.
            shown = ("bit_depth", "icc_profile", "icc_profile_type", "nclx_profile", "chroma")
            added.info.update({k: picture.info[k] for k in shown if picture.info.get(k)})
        out = io.BytesIO()
        fresh.save(
            out, quality=QUALITY, tile_size=_TILE, enc_params=_ENCODER,
            primary_index=source.primary_index,
        )
        sizes = [p.size for p in pictures]
        del source, pictures, picture, fresh, added  # the decoded pixels, before decoding again
        cleaned = out.getvalue()
        _carries_nothing(cleaned, sizes)
    except Unreadable:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # libheif raises many kinds for a hostile file
        raise Unreadable("not a readable HEIF") from exc
    return cleaned, found


def _carries_nothing(cleaned: bytes, sizes: list[tuple[int, int]]) -> None:
    """Unreadable unless the fresh file decodes to pictures of `sizes` with no block left."""
    import pillow_heif

    again = pillow_heif.open_heif(io.BytesIO(cleaned), convert_hdr_to_8bit=False)
    if [p.size for p in again] != sizes or any(_found(p.info) for p in again):
        raise Unreadable("the fresh HEIF is not what was written")
    for picture in again:
        picture.load()
