"""File checks never hold upload slots (issue 22), driven over HTTP through the Flask test client.

Each file of a disclosure may take up to sandbox.WALL_SECONDS of sandboxed work. Eight disclosures
each carrying a bomb held every upload slot while their checks ran, so a genuine disclosure with a
file got 503 at once. The checks here are injected: they record what is held while they run."""
from __future__ import annotations

import io
import os
import threading
import zipfile

import pytest

from portal.core.config import load_settings
from portal.guard import upload_slots, work_queues
from portal.intake import check_sizes, file_cleaning
from portal.hidden_details import sandbox
from portal.web.app import create_app
from tests.support import csrf_token, disclosure_fields, post_multipart, receipt_from

# Larger than the main loop reads (work_slots.SMALL_BODY_BYTES): this body takes an upload slot.
BIG = 100 * 1024


def app_with(installation, **overrides):
    app = create_app(settings=load_settings(installation.data_dir, **overrides))
    app.config["TESTING"] = True
    return app


def disclose(client, files=None):
    token = csrf_token(client.get("/disclose").text)
    fields = disclosure_fields(token, "Payments made twice.") + [("strip_metadata", "y")]
    return post_multipart(client, "/disclose", fields, files or [("attachments", "notes.bin", os.urandom(BIG))])


def test_a_file_check_runs_with_no_upload_slot_held_so_a_second_disclosure_gets_one(
        installation, monkeypatch):
    # Two places for checks, so the second disclosure's check is not kept out by the first's.
    app = app_with(installation, max_concurrent_uploads=1, file_check_places=2)
    slots = upload_slots.slots_for(load_settings(installation.data_dir, max_concurrent_uploads=1))
    held_during_checks, second = [], []

    def check(data, *args, **kwargs):
        held_during_checks.append(len(slots.holders))
        if len(held_during_checks) == 1:  # while the first disclosure's file is checked, another
            # arrives, on a thread of its own as on a served worker
            other = threading.Thread(target=lambda: second.append(disclose(app.test_client())))
            other.start()
            other.join(timeout=60)
        return sandbox.Checked(None, reason="kind")

    monkeypatch.setattr(sandbox, "check", check)
    first = disclose(app.test_client())
    assert first.status_code == 200 and 'id="receipt"' in first.text
    assert held_during_checks == [0, 0]  # the first's check and the second's: no slot held
    assert second[0].status_code == 200 and 'id="receipt"' in second[0].text
    assert slots.holders == []


def test_a_reply_gives_its_upload_slot_back_before_its_files_are_checked(installation, monkeypatch):
    app = app_with(installation, max_concurrent_uploads=1)
    slots = upload_slots.slots_for(load_settings(installation.data_dir, max_concurrent_uploads=1))
    client = app.test_client()
    receipt = receipt_from(disclose(client, [("attachments", "n.txt", b"small")]).text)
    token = csrf_token(client.get("/status").text)
    assert client.post("/status", data={"csrf_token": token, "receipt": receipt}).status_code == 303
    held_during_checks = []
    monkeypatch.setattr(sandbox, "check", lambda *a, **k: held_during_checks.append(
        len(slots.holders)) or sandbox.Checked(None, reason="kind"))
    token = csrf_token(client.get("/status").text)
    sent = post_multipart(client, "/status/reply", [("csrf_token", token), ("message", "More."),
                                                    ("strip_metadata", "y")],
                          [("attachments", "more.bin", os.urandom(BIG))])
    assert sent.status_code == 303 and held_during_checks == [0]


NOT_RUN = "the check itself could not run just now"


def counted_checks(monkeypatch) -> list:
    calls = []
    monkeypatch.setattr(sandbox, "check", lambda *a, **k: calls.append(1) or sandbox.Checked(None, reason="kind"))
    return calls


def test_with_no_place_for_file_checks_none_runs_and_the_receipt_says_so(installation, monkeypatch):
    calls = counted_checks(monkeypatch)
    client = app_with(installation, file_check_places=0, file_check_wait_seconds=0).test_client()
    page = disclose(client)
    assert page.status_code == 200 and 'id="receipt"' in page.text
    assert calls == [] and NOT_RUN in page.text


def test_a_file_check_waits_for_the_installations_one_place_and_runs_once_it_is_free(
        installation, monkeypatch):
    calls = counted_checks(monkeypatch)
    # No place kept for small checks here: this is the ordinary place's wait.
    settings = load_settings(installation.data_dir, file_check_places=1, file_check_wait_seconds=0,
                             file_check_small_bytes=0)
    app = create_app(settings=settings)
    app.config["TESTING"] = True
    client = app.test_client()
    # Another server process's check holds the one place (the same lock file in /dev/shm).
    with work_queues.shared_place(settings, file_cleaning.FILE_CHECKS, 1, deadline=0):
        held = disclose(client)
    assert held.status_code == 200 and NOT_RUN in held.text and calls == []
    two = [("attachments", "a.bin", os.urandom(BIG)), ("attachments", "b.bin", os.urandom(BIG))]
    free = disclose(client, two)
    assert free.status_code == 200 and NOT_RUN not in free.text
    assert calls == [1, 1]  # each file's check took the place and gave it back


def cpu_bounds_of_checks(monkeypatch, cut_small: bool = False) -> list:
    """The CPU bound each check ran under (None: the sandbox's whole bound); with `cut_small`, a
    check under the small bound comes back as the child killed at it."""
    calls = []

    def check(data, *args, cpu_seconds=None, **kwargs):
        calls.append(cpu_seconds)
        if cut_small and cpu_seconds == file_cleaning.SMALL_CPU_SECONDS:
            return sandbox.Checked(None, reason="limit")
        return sandbox.Checked(None, reason="kind")

    monkeypatch.setattr(sandbox, "check", check)
    return calls


def small_place_app(installation):
    settings = load_settings(installation.data_dir, file_check_places=1, file_check_wait_seconds=0)
    app = create_app(settings=settings)
    app.config["TESTING"] = True
    return settings, app.test_client()


def bomb_docx(elements: int = 1_000_000, embedded: bytes | None = None) -> bytes:
    """20 KB or so that declares 4 MB of XML: small in bytes, not in what its check reads (with
    `embedded`, a chart's workbook inside it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<r>" + b"<p/>" * elements + b"</r>")
        if embedded is not None:
            archive.writestr("word/embeddings/Microsoft_Excel_Worksheet.xlsx", embedded)
    return out.getvalue()


def test_a_small_file_is_checked_in_the_place_kept_for_it_while_bombs_hold_the_others(
        installation, monkeypatch):
    calls = cpu_bounds_of_checks(monkeypatch)
    settings, client = small_place_app(installation)
    # Bombs in other server processes hold the one ordinary place (the same lock file in /dev/shm).
    with work_queues.shared_place(settings, file_cleaning.FILE_CHECKS, 1, deadline=0):
        page = disclose(client, [("attachments", "photo.png", SMALL_PICTURE)])
    assert page.status_code == 200 and 'id="receipt"' in page.text and NOT_RUN not in page.text
    assert calls == [file_cleaning.SMALL_CPU_SECONDS]  # it ran, under the small check's CPU bound


def test_a_file_small_in_bytes_whose_zip_declares_more_takes_no_small_place(installation, monkeypatch):
    calls = cpu_bounds_of_checks(monkeypatch)
    settings, client = small_place_app(installation)
    bomb = bomb_docx()
    assert len(bomb) < settings.file_check_small_bytes < check_sizes.package_bytes(bomb, len(bomb))
    with work_queues.shared_place(settings, file_cleaning.FILE_CHECKS, 1, deadline=0):
        held = disclose(client, [("attachments", "report.docx", bomb)])
    assert held.status_code == 200 and NOT_RUN in held.text and calls == []
    free = disclose(client, [("attachments", "report.docx", bomb)])
    assert NOT_RUN not in free.text and calls == [None]  # in the ordinary place, the whole bound


def test_a_small_check_cut_at_its_bound_is_checked_again_with_the_whole_bound(installation, monkeypatch):
    calls = cpu_bounds_of_checks(monkeypatch, cut_small=True)
    _, client = small_place_app(installation)
    page = disclose(client, [("attachments", "photo.png", SMALL_PICTURE)])
    assert page.status_code == 200 and calls == [file_cleaning.SMALL_CPU_SECONDS, None]
    assert NOT_RUN not in page.text


def png_header(width: int, height: int) -> bytes:
    """A PNG's signature and header (what check_sizes reads), then its end: the check is counted,
    not run."""
    import zlib
    ihdr = b"IHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 6, 0, 0, 0])
    chunk = len(ihdr[4:]).to_bytes(4, "big") + ihdr + zlib.crc32(ihdr).to_bytes(4, "big")
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00\x00\x00\x00IEND\xaeB`\x82"


def jpeg_with_scans(scans: int) -> bytes:
    """A 100 x 100 JPEG's frame header and `scans` scan headers (a progressive bomb's shape)."""
    frame = b"\xff\xc2\x00\x11\x08\x00\x64\x00\x64\x03" + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00"
    scan = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x12\x34"
    return b"\xff\xd8" + frame + scan * scans + b"\xff\xd9"


SMALL_PICTURE = png_header(1024, 768)
HIDDEN_SIZES = {
    # The outer package declares only the inner one's 20 KB; the inner declares 4 MB of XML.
    "package inside a package": ("report.docx", bomb_docx(100, embedded=bomb_docx())),
    "picture of huge dimensions": ("photo.png", png_header(20_000, 20_000)),  # 1.6 GB of pixels
    "JPEG of many scans": ("photo.jpg", jpeg_with_scans(check_sizes.SMALL_JPEG_SCANS + 1)),
    "TIFF (decoded and encoded again)": ("scan.tif", b"II*\x00" + bytes(64)),
    # Kinds whose declared size is not read (review, L1): the small place is an allow-list.
    "PDF": ("report.pdf", b"%PDF-1.7\n" + bytes(64)),
    "GIF": ("anim.gif", b"GIF89a" + (60_000).to_bytes(2, "little") * 2 + bytes(64)),
    "WebP": ("photo.webp", b"RIFF" + bytes(4) + b"WEBPVP8X" + bytes(64)),
    "OLE (an old Office file)": ("sheet.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64)),
    "a kind not named": ("notes.bin", os.urandom(4096)),
}


@pytest.mark.parametrize("name", list(HIDDEN_SIZES))
def test_a_file_hiding_the_size_of_its_check_takes_no_small_place(installation, monkeypatch, name):
    """A bomb that hides its size in what it declares (issue 22) is sent to an ordinary place
    before its check starts: it could otherwise take the small place again and again, 2 s of CPU
    each time. Bombs hold the ordinary place here, so it is not checked; a small file of the same
    kinds is, in the small place."""
    calls = cpu_bounds_of_checks(monkeypatch)
    settings, client = small_place_app(installation)
    filename, hidden = HIDDEN_SIZES[name]
    assert len(hidden) < settings.file_check_small_bytes
    with work_queues.shared_place(settings, file_cleaning.FILE_CHECKS, 1, deadline=0):
        held = disclose(client, [("attachments", filename, hidden)])
        assert held.status_code == 200 and NOT_RUN in held.text and calls == []
        small = [("attachments", "chart.docx", bomb_docx(100, embedded=bomb_docx(100))),
                 ("attachments", "photo.png", SMALL_PICTURE), ("attachments", "photo.jpg", jpeg_with_scans(10))]
        checked = disclose(client, small)
    assert checked.status_code == 200 and NOT_RUN not in checked.text
    assert calls == [file_cleaning.SMALL_CPU_SECONDS] * 3


def test_past_its_cuts_for_the_minute_the_small_place_takes_no_file_until_the_next(installation,
                                                                                   monkeypatch):
    """A bomb that hides its size some way not read from its headers is cut at the small bound
    and checked again in an ordinary place; past SMALL_CUTS_PER_MINUTE cuts a minute,
    installation-wide, the small place takes no file until the next minute."""
    import time
    now = [float(int(time.time()) // 60 * 60 + 1)]  # the start of a minute, held still
    monkeypatch.setattr(time, "time", lambda: now[0])
    calls = cpu_bounds_of_checks(monkeypatch, cut_small=True)
    _, client = small_place_app(installation)
    small, cut_then_whole = file_cleaning.SMALL_CPU_SECONDS, [file_cleaning.SMALL_CPU_SECONDS, None]

    def disclosed():
        now[0] += 3  # a turn of the no-script line each time (the test client sends its ticket)
        return disclose(client, [("attachments", "photo.png", SMALL_PICTURE)]).status_code == 200

    for _ in range(file_cleaning.SMALL_CUTS_PER_MINUTE):
        assert disclosed()
    assert calls == cut_then_whole * file_cleaning.SMALL_CUTS_PER_MINUTE
    calls.clear()
    assert disclosed() and calls == [None]  # straight to an ordinary place, the same minute
    now[0] += 60
    calls.clear()
    assert disclosed() and calls == [small, None]  # the next minute: the small place again
