"""Hidden details in files (issue 26), over HTTP: real files made in the test are cleaned before
they are kept when the discloser asks (the default), the receipt says what kinds were removed,
the officer downloads them without the details and with the text unchanged, the originals stay
the discloser's until handed over; left in when the box is unticked, with the note; a bomb and a
malformed file go through with a plain note; nothing in clear on disk, in temporary files or logs."""
from __future__ import annotations

import io
import logging
import os
import re
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from portal.core.context import open_context
from portal.hidden_details import packages, sandbox
from tests.support import csrf_token, database, disclosure_fields, form_for, post_multipart
import tests.support.hidden_files as made
from tests.support.console import case_links, sign_in
from tests.support.discloser import open_status

NEEDLES = (made.PERSON.encode(), made.PERSON.encode("utf-16-le"), made.COMPANY.encode(),
           made.INITIALS.encode())


def _send(client, files, strip=True):
    token = csrf_token(client.get("/disclose").text)
    fields = disclosure_fields(token, "Payments made twice.") + ([("strip_metadata", "y")] if strip else [])
    response = post_multipart(client, "/disclose", fields, files)
    assert response.status_code == 200, response.text
    return response.text


def _case_page(app, installation):
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    [case_url] = case_links(officer.get("/console/").text)
    return officer, case_url


def _downloads(officer, page: str) -> dict[str, bytes]:
    """Each listed file's name -> what the officer downloads."""
    found = {}
    for url, name in re.findall(r'<li><a href="(/console/cases/[^"]+/attachments/[^"]+)">([^<]+)</a>', page):
        response = officer.get(url)
        assert response.status_code == 200
        found[name] = response.data
    return found


def _holds_a_needle(name: str, data: bytes) -> bool:
    searched = made.zip_texts(data) if name.endswith((".docx", ".xlsx", ".odt")) else data
    return any(needle in searched for needle in NEEDLES)


def _clear_text_on_disk(roots, since: float) -> list[Path]:
    """Files changed since `since` below `roots` that hold a needle (others' temporary files may
    come and go while this walks: those are passed over)."""
    hits = []
    for root in roots:
        for folder, _, names in os.walk(root, onerror=lambda error: None):
            for name in names:
                path = Path(folder) / name
                try:
                    if not path.is_file() or path.stat().st_mtime < since:
                        continue
                    data = path.read_bytes()
                except OSError:
                    continue
                if any(needle in data for needle in NEEDLES):
                    hits.append(path)
    return hits


FILES = {"minutes.docx": made.docx(), "payments.xlsx": made.xlsx(), "notes.odt": made.odt(),
         "site.jpg": made.jpeg_with_gps(), "letter.pdf": made.pdf()}


def test_files_are_cleaned_before_they_are_kept_and_the_receipt_says_what_was_removed(
        app, installation, monkeypatch, caplog):
    started = time.time() - 1
    data_dir = installation.data_dir
    caplog.set_level(logging.DEBUG)
    seen_during = []
    real_run = sandbox._run  # runs one child and reads its answer (sandbox.check)

    def run_and_look(*args, **kwargs):
        done = real_run(*args, **kwargs)
        # While the files are being cleaned: the child is done, its answer is in memory only.
        seen_during.append(_clear_text_on_disk([data_dir, tempfile.gettempdir()], started))
        return done

    sandbox.bubblewrap_works()  # its probe, once per process, is not a file's check
    monkeypatch.setattr(sandbox, "_run", run_and_look)
    discloser = app.test_client()
    receipt_page = _send(discloser, [("attachments", name, data) for name, data in FILES.items()])
    assert len(seen_during) == len(FILES) and not any(seen_during), re.sub(r"<[^>]+>", "", receipt_page)

    report = receipt_page[receipt_page.index('id="metadata-report"'):]
    for name in FILES:
        assert re.search(rf"<strong>{re.escape(name)}</strong>:\s*removed: ", report), report[:3000]
    for kind in ("location (GPS position)", "names and dates on tracked changes", "names of authors or owners",
                 "company or organisation name", "earlier saved versions kept inside the file",
                 "a list of the people who worked on it", "printer settings"):
        assert kind in report
    assert not any(needle.decode("latin-1") in receipt_page for needle in NEEDLES[:1] + NEEDLES[2:])

    officer, case_url = _case_page(app, installation)
    page = officer.get(case_url).text
    assert "hidden details removed at the discloser's request" in page
    downloads = _downloads(officer, page)
    assert sorted(downloads) == sorted(FILES)
    for name, data in downloads.items():
        assert not _holds_a_needle(name, data), name
    logged_while_sending = caplog.text
    # The text is as it was.
    for name, part, tag in (("minutes.docx", "word/document.xml", "t"), ("payments.xlsx", "xl/worksheets/sheet1.xml", "t"),
                            ("notes.odt", "content.xml", "p")):
        with zipfile.ZipFile(io.BytesIO(FILES[name])) as before, zipfile.ZipFile(io.BytesIO(downloads[name])) as after:
            assert made.TEXT in made.xml_text(before.read(part), tag)
            assert made.xml_text(after.read(part), tag) == made.xml_text(before.read(part), tag)
    with zipfile.ZipFile(io.BytesIO(downloads["minutes.docx"])) as after:
        assert b"Added later." in after.read("word/document.xml") and b"Removed." in after.read("word/document.xml")
        assert "word/people.xml" not in after.namelist() and "docProps/custom.xml" not in after.namelist()
        assert b"people.xml" not in after.read("word/_rels/document.xml.rels")
    with Image.open(io.BytesIO(FILES["site.jpg"])) as before, Image.open(io.BytesIO(downloads["site.jpg"])) as after:
        assert after.getexif().get_ifd(0x8825) == {} and list(after.get_flattened_data()) == list(before.get_flattened_data())
    with pikepdf.open(io.BytesIO(downloads["letter.pdf"])) as cleaned:
        assert "/Author" not in cleaned.docinfo and "/Metadata" not in cleaned.Root
        # Both halves of the /ID new: the first is the permanent one that links copies (review M-A).
        assert all(bytes(half) != made.PDF_ID for half in cleaned.trailer.ID), cleaned.trailer.ID
        assert made.TEXT.encode() in cleaned.pages[0].Contents.read_bytes()
    assert downloads["letter.pdf"].count(b"%%EOF") == 1

    # The originals are the discloser's alone: the officers have no link and no way to one...
    assert "/originals/" not in page
    assert open_status(discloser, re.search(r'data-receipt="([^"]+)"', receipt_page).group(1)
                       if 'data-receipt="' in receipt_page else _receipt(receipt_page)).status_code == 303
    status_page = discloser.get("/status").text
    assert 'id="original-files"' in status_page and "minutes.docx" in status_page
    form = form_for(status_page, next(a for a in re.findall(r'action="([^"]+)"', status_page)
                                      if "/status/originals/" in a))
    original_id = form["action"].rsplit("/", 1)[1]
    assert officer.get(f"{case_url}/originals/{original_id}").status_code == 404
    # ... until the discloser hands one over, having ticked that they understand what the officers will see
    # (one click could not be undone: new-user review).
    untick = discloser.post(form["action"], data=dict(form["fields"]))
    assert untick.status_code == 303 and untick.headers["Location"].endswith("done=not-handed#notice")
    assert "Nothing was handed over" in discloser.get(untick.headers["Location"]).text
    assert "/originals/" not in officer.get(case_url).text
    assert re.search(r'<label for="understood-[0-9a-f]+">I understand that the officers will see what was removed'
                     r' from \S+ \([a-z]', status_page)
    assert discloser.post(form["action"], data=dict(form["fields"], understood="y")).status_code == 303
    page = officer.get(case_url).text
    [original_url] = re.findall(r'href="(/console/cases/[^"]+/originals/[^"]+)"', page)
    # The day it was handed over, as every date of the console reads (issue 25 Words).
    assert re.search(r'\(original\)</a>, handed over on <time datetime="\d{4}-\d\d-\d\d">\d{1,2} [A-Z][a-z]+ \d{4}</time>',
                     page)
    handed = officer.get(original_url)
    assert handed.status_code == 200 and handed.data in FILES.values()

    # A reply's files are cleaned the same way, and the status page tells what was removed.
    status_page = discloser.get("/status").text
    reply = form_for(status_page, "/status/reply")
    fields = [(k, v) for k, v in reply["fields"] if k != "message"] + [("message", "A photo of the site.")]
    assert ("strip_metadata", "y") in fields  # ticked on the page
    answer = post_multipart(discloser, "/status/reply", fields, [("attachments", "second.jpg", FILES["site.jpg"])])
    assert answer.status_code == 303
    status_page = discloser.get("/status").text
    assert re.search(r"second\.jpg:\s*removed: [^<]*location \(GPS position\)", status_page)
    second = _downloads(officer, officer.get(case_url).text)["second.jpg"]
    assert not _holds_a_needle("second.jpg", second) and second != FILES["site.jpg"]

    # What the portal logged; Pillow's records after the downloads are this test's own reading of the files.
    logged = logged_while_sending + "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("PIL"))
    assert not any(needle.decode("latin-1") in logged for needle in NEEDLES)
    assert _clear_text_on_disk([data_dir, tempfile.gettempdir()], started) == []


def _receipt(page: str) -> str:
    from tests.support import receipt_from
    return receipt_from(page)


def _audit_events(installation, event: str) -> list[str]:
    ctx = open_context(installation.data_dir)
    try:
        return [row[0] for row in ctx.db.execute("SELECT detail FROM audit_log WHERE event = ?", [event])]
    finally:
        ctx.db.conn.close()


def test_unticked_the_officer_sees_the_details_and_the_note_and_can_make_an_audited_clean_copy(app, installation):
    discloser = app.test_client()
    # A fresh form has the box ticked; the discloser unticks it (a browser then sends no field).
    assert re.search(r'<input type="checkbox" id="strip_metadata" name="strip_metadata" value="y" checked',
                     discloser.get("/disclose").text)
    receipt_page = _send(discloser, [("attachments", "minutes.docx", FILES["minutes.docx"]),
                                     ("attachments", "site.jpg", FILES["site.jpg"])], strip=False)
    assert "you chose to leave any hidden details in" in receipt_page
    officer, case_url = _case_page(app, installation)
    page = officer.get(case_url).text
    assert page.count("hidden details were left in, as the discloser chose") == 2
    downloads = _downloads(officer, page)
    assert downloads == {"minutes.docx": FILES["minutes.docx"], "site.jpg": FILES["site.jpg"]}
    assert all(_holds_a_needle(name, data) for name, data in downloads.items())

    form = form_for(page, next(a for a in re.findall(r'action="([^"]+)"', page) if a.endswith("/clean-copy")))
    answer = officer.post(form["action"], data=dict(form["fields"]))
    assert answer.status_code == 303 and "copy=removed" in answer.headers["Location"]
    page = officer.get(answer.headers["Location"]).text
    assert 'id="clean-copy-outcome"' in page and "A clean copy was made" in page
    downloads = _downloads(officer, page)
    [copy_name] = [name for name in downloads if name.startswith("clean copy of ")]
    assert not _holds_a_needle(copy_name, downloads[copy_name])
    assert downloads[copy_name.removeprefix("clean copy of ")] in FILES.values()  # the file itself is kept
    [detail] = _audit_events(installation, "clean_copy")
    assert '"outcome":"removed"' in detail and made.PERSON not in detail


def test_a_bomb_and_a_malformed_file_go_through_with_a_plain_note(app, installation):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:  # 260 MiB of zeros in about 260 KB
            for _ in range(260):
                member.write(bytes(1 << 20))
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        for index in range(10_001):
            archive.writestr(f"p/{index}", b"")
    parts = io.BytesIO()  # each part tiny, but more parts than one file may have parsed (issue 22)
    with zipfile.ZipFile(parts, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for index in range(packages.MAX_XML_PARTS):
            archive.writestr(f"word/part{index}.xml", b"<p/>")
    # A picture whose header claims 400 million pixels: refused before any is decoded.
    pixels = _png_chunk(b"IHDR", (20000).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00")
    huge = b"\x89PNG\r\n\x1a\n" + pixels + _png_chunk(b"IDAT", __import__("zlib").compress(bytes(1000))) + _png_chunk(b"IEND", b"")
    sent = {"bomb.docx": bomb.getvalue(), "entries.odt": many.getvalue(), "parts.docx": parts.getvalue(), "huge.png": huge,
            "broken.pdf": b"%PDF-1.7\n1 0 obj << /Author (" + made.PERSON.encode() + b") >>\ntrailer garbage",
            "broken.jpg": b"\xff\xd8\xff\xe1\x00\x10Exif" + bytes(3)}
    receipt_page = _send(app.test_client(), [("attachments", name, data) for name, data in sent.items()])
    report = receipt_page[receipt_page.index('id="metadata-report"'):]
    for name in sent:
        assert re.search(rf"<strong>{re.escape(name)}</strong>:\s*could not be checked", report), name
    for name in ("broken.pdf", "broken.jpg"):  # told apart from a file past a bound (issue 24)
        assert re.search(rf"<strong>{re.escape(name)}</strong>:\s*could not be checked: it looks damaged",
                         report), name
    for name in ("bomb.docx", "entries.odt", "parts.docx"):  # past a bound on the whole file
        assert re.search(rf"<strong>{re.escape(name)}</strong>:\s*could not be checked: it is too large or too complex",
                         report), name
    assert "the check itself could not run" not in report
    officer, case_url = _case_page(app, installation)
    page = officer.get(case_url).text
    assert page.count("could not be checked, so it is as the discloser sent it") == len(sent)
    assert _downloads(officer, page) == sent


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    import zlib
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def _big_jpeg() -> bytes:
    """A small file that decodes to 108 MB of pixels."""
    out = io.BytesIO()
    Image.new("RGB", (6000, 6000), (200, 10, 10)).save(out, "JPEG")
    return out.getvalue()


def test_the_child_is_held_to_its_memory_bound_and_the_request_still_succeeds(app, installation, monkeypatch):
    big = _big_jpeg()
    modes = [False] + ([True] if sandbox.bubblewrap_works() else [])
    for sandboxed in modes:  # bubblewrap where this machine allows it, and the plain child always
        bounded = sandbox.check(big, memory_bytes=160 << 20, sandboxed=sandboxed)
        assert not bounded.checked and bounded.reason == "memory"
        assert bounded.limits == {"as": 160 << 20, "cpu": sandbox.CPU_SECONDS}
        assert sandbox.check(big, memory_bytes=600 << 20, sandboxed=sandboxed).checked
        shipped = sandbox.check(big, sandboxed=sandboxed)  # a 36-megapixel photo checks at the shipped bound
        assert shipped.checked and shipped.limits["as"] == sandbox.MEMORY_BYTES <= 384 << 20
    monkeypatch.setattr(sandbox, "MEMORY_BYTES", 160 << 20)
    receipt_page = _send(app.test_client(), [("attachments", "photo.jpg", big)])
    assert re.search(r"<strong>photo\.jpg</strong>:\s*could not be checked: it is too large or too complex",
                     receipt_page)


def test_a_child_that_writes_past_its_bound_is_cut_off_and_the_file_goes_as_sent_with_a_note(app, installation,
                                                                                           monkeypatch):
    # A parser subverted by a hostile file, writing without end: the worker stops reading at the
    # bound and kills it, long before the wall-clock timeout (which would say "time", not "size").
    endless = "import sys\nwhile True: sys.stdout.buffer.write(bytes(1 << 16))"
    monkeypatch.setattr(sandbox, "command", lambda *a: [sys.executable, "-c", endless])
    monkeypatch.setattr(sandbox, "WALL_SECONDS", 600)
    read = []
    real_read = os.read
    monkeypatch.setattr(sandbox.os, "read", lambda fd, n: read.append(real_read(fd, n)) or read[-1])
    photo = FILES["site.jpg"]
    assert sandbox.check(photo).reason == "size"
    assert sum(map(len, read)) <= sandbox.answer_bound(len(photo)) + (1 << 20)
    receipt_page = _send(app.test_client(), [("attachments", "site.jpg", photo)])
    assert re.search(r"<strong>site\.jpg</strong>:\s*could not be checked: it is too large or too complex",
                     receipt_page)
    officer, case_url = _case_page(app, installation)
    assert _downloads(officer, officer.get(case_url).text) == {"site.jpg": photo}


def test_a_child_its_seccomp_filter_kills_leaves_the_file_as_sent_with_a_plain_note(app, installation, monkeypatch):
    # The real child's filter on, then a call a subverted parser might make: the child dies of
    # SIGSYS, and the disclosure still goes through with the file as sent.
    from tests.support import ROOT
    subverted = (f"import socket, sys; sys.path.insert(0, {str(ROOT)!r});"
                 " from portal.hidden_details.child import confine; confine(); socket.socket()")
    monkeypatch.setattr(sandbox, "command", lambda *a: [sys.executable, "-I", "-c", subverted])
    photo = FILES["site.jpg"]
    assert sandbox.check(photo).reason == "forbidden"
    receipt_page = _send(app.test_client(), [("attachments", "site.jpg", photo)])
    assert re.search(r"<strong>site\.jpg</strong>:\s*could not be checked: it looks damaged", receipt_page)
    officer, case_url = _case_page(app, installation)
    assert _downloads(officer, officer.get(case_url).text) == {"site.jpg": photo}


def test_once_a_request_has_spent_its_time_for_checks_the_rest_go_as_sent(app, monkeypatch):
    from portal.intake import file_cleaning
    spawned = []
    monkeypatch.setattr(sandbox.subprocess, "Popen", lambda *a, **k: spawned.append(a))
    monkeypatch.setattr(file_cleaning, "REQUEST_CHECK_SECONDS", 0)
    receipt_page = _send(app.test_client(), [("attachments", "site.jpg", FILES["site.jpg"])])
    assert re.search(r"<strong>site\.jpg</strong>:\s*not checked: the check itself could not run",
                     receipt_page) and spawned == []


def _pdf_with_photo(filters: list[str]) -> bytes:
    """A one-page PDF whose image is the GPS-tagged JPEG under `filters` (last /DCTDecode)."""
    document = pikepdf.new()
    document.add_blank_page()
    photo = made.jpeg_with_gps()
    data = zlib.compress(photo) if filters[0] == "/FlateDecode" else photo
    image = pikepdf.Stream(document, data)
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = 64, 48, 8
    image.ColorSpace = pikepdf.Name.DeviceRGB
    image.Filter = pikepdf.Array([pikepdf.Name(name) for name in filters])
    page = document.pages[0]
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = document.make_stream(b"q 64 0 0 48 0 0 cm /Im0 Do Q")
    out = io.BytesIO()
    document.save(out, compress_streams=False)
    return out.getvalue()


def test_a_pdf_photo_under_a_filter_array_loses_its_gps_and_names(app, installation):
    # Review (issue 26): /Filter [/DCTDecode] or [/FlateDecode /DCTDecode] left the photo's EXIF in.
    files = {"plain-array.pdf": _pdf_with_photo(["/DCTDecode"]),
             "flate-array.pdf": _pdf_with_photo(["/FlateDecode", "/DCTDecode"])}
    for data in files.values():
        with pikepdf.open(io.BytesIO(data)) as before:
            image = before.pages[0].Resources.XObject.Im0
            raw = image.read_raw_bytes()
            assert made.PERSON.encode() in (zlib.decompress(raw) if len(image.Filter) == 2 else raw)
    receipt_page = _send(app.test_client(), [("attachments", name, data) for name, data in files.items()])
    assert receipt_page.count("photo details (EXIF) in embedded pictures") == 2
    officer, case_url = _case_page(app, installation)
    downloads = _downloads(officer, officer.get(case_url).text)
    assert sorted(downloads) == sorted(files)
    for name, data in downloads.items():
        with pikepdf.open(io.BytesIO(data)) as after:
            photo = after.pages[0].Resources.XObject.Im0
            jpeg = photo.read_raw_bytes()
            if isinstance(photo.Filter, pikepdf.Array) and len(photo.Filter) == 2:
                jpeg = zlib.decompress(jpeg)
        assert made.PERSON.encode() not in jpeg and made.PERSON.encode() not in data, name
        with Image.open(io.BytesIO(jpeg)) as shown:
            assert shown.getexif().get_ifd(0x8825) == {} and shown.size == (64, 48)


def test_a_pdf_comment_without_its_optional_type_and_a_page_thumbnail_are_removed(app, installation):
    # Review (issue 26): an annotation with /Subtype but no /Type or /Popup kept its author (/T);
    # a page's /Thumb preview was kept.
    document = pikepdf.new()
    document.add_blank_page()
    page = document.pages[0]
    thumbnail = pikepdf.Stream(document, made.PERSON.encode().ljust(48, b"\0")[:48])
    thumbnail.Width, thumbnail.Height, thumbnail.BitsPerComponent = 4, 4, 8
    thumbnail.ColorSpace = pikepdf.Name.DeviceRGB
    page.obj.Thumb = thumbnail
    comment = pikepdf.Dictionary(Subtype=pikepdf.Name.Text, Rect=[0, 0, 10, 10],
                                 T=pikepdf.String(made.PERSON), Contents=pikepdf.String("note"))
    page.obj.Annots = document.make_indirect(pikepdf.Array([document.make_indirect(comment)]))
    out = io.BytesIO()
    document.save(out, compress_streams=False)
    assert made.PERSON.encode() in out.getvalue()
    receipt_page = _send(app.test_client(), [("attachments", "comment.pdf", out.getvalue())])
    assert "names and dates on comments" in receipt_page and "an embedded preview picture" in receipt_page
    officer, case_url = _case_page(app, installation)
    [cleaned] = _downloads(officer, officer.get(case_url).text).values()
    with pikepdf.open(io.BytesIO(cleaned)) as after:
        assert "/Thumb" not in after.pages[0].obj
        [kept] = after.pages[0].obj.Annots
        assert "/T" not in kept and str(kept.Contents) == "note"
        assert not any(made.PERSON.encode() in obj.read_bytes() for obj in after.objects
                       if isinstance(obj, pikepdf.Stream))
    assert made.PERSON.encode() not in cleaned


def test_the_file_as_received_is_on_disk_under_a_key_no_officer_holds(app, installation, monkeypatch):
    """The blob an upload streams into before cleaning decides (unlinked once cleaned, but its
    blocks may outlive it in freed space, a snapshot or a backup) is not under the case key: an
    officer holding the case key cannot open the original from it."""
    from portal.intake import pending_files, receiving
    from portal.records import casefiles
    from tests.conftest import officer_key
    import crypto

    captured = []
    real_read_back = pending_files.PendingFile.read_back

    def copy_aside_then_read(pending):
        captured.append((pending.id, database.blob_bytes(installation.data_dir, pending._writer.name)))
        return real_read_back(pending)

    monkeypatch.setattr(pending_files.PendingFile, "read_back", copy_aside_then_read)
    _send(app.test_client(), [("attachments", "site.jpg", FILES["site.jpg"])])
    [(attachment_id, received_blob)] = captured

    ctx = open_context(installation.data_dir)
    try:
        [(case_id,)] = ctx.db.execute("SELECT id FROM cases").fetchall()
        account, private_key = officer_key(ctx, installation.officer)
        case_key = casefiles.open_case_key(ctx, case_id, f"account:{account.id}", private_key)
        key = crypto.stream_key(case_key, case_id, attachment_id)
        ad = crypto.attachment_ad(case_id, attachment_id)
        # The kept (cleaned) copy opens under the case key ...
        [(blob,)] = ctx.db.execute("SELECT blob FROM attachments WHERE id = ?", [attachment_id]).fetchall()
        with ctx.blobs.open(blob) as kept:
            assert b"".join(crypto.iter_decrypt(key, kept, ad))
        # ... the file as received does not, and it is gone from the data directory.
        try:
            b"".join(crypto.iter_decrypt(key, io.BytesIO(received_blob), ad))
        except crypto.DecryptionError:
            pass
        else:
            raise AssertionError("the case key opens the file as received")
        assert not any(path.read_bytes() == received_blob for path in Path(installation.data_dir).rglob("*")
                       if path.is_file())
    finally:
        ctx.db.conn.close()


def test_a_file_the_checks_never_read_is_encrypted_once_under_the_case_key(app, installation, monkeypatch):
    """Only a kind the checks may clean (by its first bytes) pays for the request's own key and the
    copy under the case key afterwards; any other file is written once, as before."""
    from portal.intake import pending_files, receiving

    copies = []
    real_seal = pending_files.PendingFile._seal_for_case
    monkeypatch.setattr(pending_files.PendingFile, "_seal_for_case",
                        lambda pending: (copies.append(pending.name), real_seal(pending)))
    _send(app.test_client(), [("attachments", "notes.bin", b"\x00\x01 plain bytes of no kind " * 400)])
    assert copies == []
    _send(app.test_client(), [("attachments", "plain.pdf", b"%PDF-1.4 but not really a pdf " * 40)])
    assert copies == ["plain.pdf"]


def test_the_xml_parts_of_one_file_share_one_bound_on_elements_counted_while_parsing(monkeypatch):
    from portal.hidden_details import packages
    monkeypatch.setattr(packages, "MAX_PACKAGE_ELEMENTS", 80)
    budget = packages.Budget()
    assert packages.parse_xml(b"<r>" + b"<p/>" * 49 + b"</r>", budget).tag == "r"
    with pytest.raises(packages.TooLarge, match="too many XML elements"):  # 50 + 31: past 80 in all
        packages.parse_xml(b"<r>" + b"<p/>" * 30 + b"</r>", budget)


def test_a_plain_text_file_is_said_to_hold_none_of_the_kinds_removed_and_other_unchecked_kinds_may(app, installation):
    """New-user review (issue 25): a .txt file was said to "still hold hidden details"; plain text
    has no place for them, while a file of a kind the portal cannot read still may."""
    sent = {"minutes.txt": "Minutes of the meeting.\r\n\tItem 1: invoices paid twice. Māori words too.\n".encode(),
            "recording.bin": b"\x00\x01 bytes of no kind " * 40}
    receipt_page = _send(app.test_client(), [("attachments", name, data) for name, data in sent.items()])
    report = receipt_page[receipt_page.index('id="metadata-report"'):]
    assert re.search(r"<strong>minutes\.txt</strong>:\s*plain text: it has no place for hidden details", report)
    assert re.search(r"<strong>recording\.bin</strong>:\s*not checked: [^<]*may still hold hidden details", report)
    assert report.count("may still hold hidden details") == 1
    officer, case_url = _case_page(app, installation)
    page = officer.get(case_url).text
    details = page[page.index('id="file-details"'):]
    assert re.search(r'minutes\.txt</span> <span class="file-which">\(file 1, [^)]+\)</span>:\s*plain text: no place for hidden details', details)
    assert re.search(r'recording\.bin</span> <span class="file-which">\(file 2, [^)]+\)</span>:\s*not checked: a kind of file the portal cannot check', details)
    assert "Make a clean copy of minutes.txt" not in details and "Make a clean copy of recording.bin" in details


def _bytes_charged_today(installation) -> int:
    from portal.guard import throttle
    from portal.intake import pending_files, receiving
    ctx = open_context(installation.data_dir)
    try:
        offset = receiving.day_offset(ctx)
        return throttle.spent(ctx.db, receiving.UPLOAD_BUDGET, receiving.DAY, offset)
    finally:
        ctx.db.conn.close()


def test_the_original_kept_of_a_cleaned_file_is_charged_to_the_daily_byte_budget(app, installation):
    import crypto
    photo = FILES["site.jpg"]
    cleaned = sandbox.check(photo).cleaned
    assert cleaned and len(cleaned) < len(photo)
    _send(app.test_client(), [("attachments", "site.jpg", photo)], strip=False)
    as_sent = crypto.padded_length(len(photo))
    assert _bytes_charged_today(installation) == as_sent  # nothing cleaned, no original kept
    _send(app.test_client(), [("attachments", "site.jpg", photo)], strip=True)
    # The cleaned file and the original kept for the discloser are both stored, both charged.
    clean_copy = crypto.padded_length(len(cleaned))
    assert _bytes_charged_today(installation) == as_sent + clean_copy + as_sent


def test_a_cleanable_kind_past_the_size_cap_is_encrypted_again_only_up_to_the_cap(
        app, installation, monkeypatch):
    """Review (issue 26): a JPEG over the checks' cap was streamed under the request's key, then
    all of it encrypted again under the case key, though it is never checked. Now what came before
    the cap is encrypted again once the cap is passed, and the rest only once. Counted in bytes
    given to the encryptor (the cap made small here: the same code path as 64 MiB)."""
    import crypto
    from portal.intake import pending_files, receiving

    cap = 1536 * 1024  # past the first chunk the form parser hands on (1 MiB), within the file
    monkeypatch.setattr(sandbox, "SIZE_CAP", cap)
    encrypted = []
    real_write = crypto.StreamEncryptor.write
    monkeypatch.setattr(crypto.StreamEncryptor, "write",
                        lambda self, data: (encrypted.append(len(data)), real_write(self, data))[1])
    reseals = []
    real_seal = pending_files.PendingFile._seal_for_case
    monkeypatch.setattr(pending_files.PendingFile, "_seal_for_case",
                        lambda pending: (reseals.append(pending.name), real_seal(pending)))
    photo = made.jpeg_with_gps() + os.urandom(3 * cap)  # bytes after the image's end
    receipt_page = _send(app.test_client(), [("attachments", "large.jpg", photo)])
    assert re.search(r"<strong>large\.jpg</strong>:\s*could not be checked", receipt_page)
    assert reseals == []
    # Once, plus what came before the cap, encrypted again when the cap was passed.
    assert len(photo) < sum(encrypted) <= len(photo) + cap  # not twice the file
    officer, case_url = _case_page(app, installation)
    assert _downloads(officer, officer.get(case_url).text) == {"large.jpg": photo}


def test_the_form_says_a_heic_photo_is_cleaned_and_the_officer_downloads_it_without_its_gps(app, installation):
    """Review (issue 26): HEIC photos kept their EXIF; now the sandboxed child saves them again
    without it (pillow-heif), the form says so before sending, and the receipt says what went."""
    client = app.test_client()
    form = client.get("/disclose").text
    hint = form[form.index('id="strip-metadata-kinds"'):]
    assert "TIFF and HEIC photos" in hint[:600] and "saves a HEIC photo" in hint[:600]
    assert 'aria-describedby="strip-metadata-hint strip-metadata-kinds"' in form
    photo = made.heic_with_gps()
    receipt_page = _send(client, [("attachments", "IMG_0042.HEIC", photo)])
    assert re.search(r"<strong>IMG_0042\.HEIC</strong>:\s*removed: [^<]*location \(GPS position\)",
                     receipt_page)
    officer, case_url = _case_page(app, installation)
    downloads = _downloads(officer, officer.get(case_url).text)
    kept = downloads["IMG_0042.HEIC"]
    assert sandbox.file_format(kept) == "heic" and made.PERSON.encode() not in kept
    assert b"CameraMaker" not in kept and made.PERSON.encode() in photo
