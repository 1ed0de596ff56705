"""HEIC photos lose their hidden details (issue 26): a HEIC made here with EXIF (camera, Artist,
GPS), an XMP block and a thumbnail comes back from the sandboxed child (bubblewrap where it runs)
without any of them, with the receipt's kinds, and decodes to the same picture in size and, within
what HEVC's lossy encoding moves, in every pixel; a malformed HEIC comes back "damaged"."""
from __future__ import annotations

import io

import pillow_heif
from PIL import Image, ImageChops, ImageStat

from portal.hidden_details import kinds, sandbox
from portal.intake import file_cleaning
import tests.support.hidden_files as made


def _opened(data: bytes):
    return pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False)


def test_a_heic_loses_its_exif_gps_xmp_and_thumbnail_and_keeps_its_picture():
    sent = made.heic_with_gps()
    assert sandbox.file_format(sent) == "heic" and made.PERSON.encode() in sent
    assert _opened(sent)[0].info["thumbnails"]
    checked = sandbox.check(sent)
    assert checked.checked, checked.reason
    assert checked.limits["as"] == sandbox.MEMORY_BYTES  # the child's own bound held
    for needle in (made.PERSON, "CameraMaker", "xmpmeta"):
        assert needle.encode() not in checked.cleaned, needle
    assert sandbox.file_format(checked.cleaned) == "heic"
    [picture] = _opened(checked.cleaned)
    info = picture.info
    assert not info["exif"] and not info.get("xmp") and not info["metadata"]
    assert not info["thumbnails"] and not info["depth_images"] and not info["aux"]
    before = _opened(sent)[0].to_pillow()
    after = picture.to_pillow()
    assert after.size == before.size == (96, 64) and after.mode == before.mode
    # Encoded again (HEVC is lossy): each channel moves by a few levels on average, not more.
    difference = ImageStat.Stat(ImageChops.difference(before, after)).mean
    assert max(difference) < 3, difference
    assert {kinds.LOCATION, kinds.DEVICE, kinds.AUTHOR, kinds.XMP, kinds.THUMBNAIL} <= set(checked.kinds)


def test_a_malformed_heic_comes_back_damaged():
    sent = made.heic_with_gps()
    for broken in (sent[:40] + b"\xff" * 300, sent[: len(sent) // 2]):
        assert sandbox.file_format(broken) == "heic"
        checked = sandbox.check(broken)
        assert not checked.checked and checked.reason == "unreadable"
        assert file_cleaning.why_unchecked(checked) == "damaged"


def test_an_avif_or_an_ordinary_mp4_is_not_taken_for_a_heic():
    assert sandbox.file_format(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(8)) == "heic"
    assert sandbox.file_format(b"\x00\x00\x00\x14ftypmif1\x00\x00\x00\x00heic" + bytes(8)) == "heic"
    assert sandbox.file_format(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(8)) is None
    assert sandbox.file_format(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(8)) is None


def test_every_picture_of_a_heic_is_kept_and_the_primary_one_stays_primary():
    photo = pillow_heif.HeifFile()
    for size in ((64, 48), (32, 16)):
        photo.add_from_pillow(Image.new("RGB", size, (40, 90, 160)))
    photo[1].info["exif"] = Image.Exif().tobytes()  # an EXIF block on the second picture only
    photo[1].info["xmp"] = f'<x:xmpmeta xmlns:x="adobe:ns:meta/">{made.PERSON}</x:xmpmeta>'.encode()
    photo.primary_index = 1
    out = io.BytesIO()
    photo.save(out, quality=90, primary_index=1)
    assert _opened(out.getvalue()).primary_index == 1
    checked = sandbox.check(out.getvalue())
    assert checked.checked, checked.reason
    assert kinds.XMP in checked.kinds and made.PERSON.encode() not in checked.cleaned
    again = _opened(checked.cleaned)
    assert [p.size for p in again] == [(64, 48), (32, 16)] and again.primary_index == 1
