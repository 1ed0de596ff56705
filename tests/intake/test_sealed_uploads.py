"""Files sealed in the browser and uploaded in parts (issue 27, docs/sealed-submission.md section 4):
a ~5 MiB blob in 64 KiB parts, interrupted and resumed, completes, and the officer downloads and
opens the file; uploads are bound to their page's session, their size and the budgets."""
from __future__ import annotations

import os

import crypto
from portal.core.context import open_context
from tests.support.console import sign_in
from tests.support import database
from tests.support.sealing import get_setup, post_json, put_part, seal_disclosure, seal_file, upload_blob

VALUES = {"category": "public_funds", "summary": "Invoices", "details": "See the ledger.",
          "disclosed_elsewhere": "no"}


def test_a_large_file_uploaded_in_parts_resumes_after_an_interruption_and_the_officer_opens_it(client, installation):
    setup = get_setup(client)
    csrf = setup["csrf_token"]
    case_key, case_id = crypto.new_case_key(), os.urandom(16).hex()
    data = os.urandom(5 * 1024 * 1024 + 12345)
    attachment_id, blob, meta = seal_file(case_key, case_id, "ledger.pdf", data)
    begun = post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": len(blob)}, csrf)
    assert begun.status_code == 201, begun.text
    upload, part = begun.get_json()["upload"], begun.get_json()["part_bytes"]
    assert part == 64 * 1024
    parts = -(-len(blob) // part)
    assert parts > 80
    for n in range(40):
        assert put_part(client, upload, n, blob[n * part:(n + 1) * part], csrf).status_code == 201
    # The connection drops part way through part 40: nothing of it is counted.
    cut = put_part(client, upload, 40, blob[40 * part:40 * part + 1000], csrf)
    assert cut.status_code == 400 and cut.get_json()["error"] == "wrong-size"
    # Skipping ahead is refused; a part sent twice is taken once.
    assert put_part(client, upload, 42, blob[42 * part:43 * part], csrf).status_code == 409
    assert put_part(client, upload, 39, blob[39 * part:40 * part], csrf).status_code == 200
    assert put_part(client, upload, 39, os.urandom(part), csrf).status_code == 409
    # Another browser's session cannot see or add to it.
    stranger = client.application.test_client()
    stranger_csrf = get_setup(stranger)["csrf_token"]
    assert stranger.get(f"/disclose/sealed/uploads/{upload}").status_code == 404
    assert put_part(stranger, upload, 40, blob[40 * part:41 * part], stranger_csrf).status_code == 404
    # Sending the disclosure now would name an unfinished upload: refused, nothing stored.
    attachment = {"id": attachment_id, "upload": upload, "meta": meta}
    early = seal_disclosure(setup, VALUES, attachments=[attachment], case_key=case_key, case_id=case_id)
    assert post_json(client, "/disclose/sealed", early.body, csrf).status_code == 400

    # The page asks where to resume, and goes on from there.
    state = client.get(f"/disclose/sealed/uploads/{upload}").get_json()
    assert state == {"upload": upload, "part_bytes": part, "parts": 40, "bytes": 40 * part, "complete": False}
    for n in range(state["parts"], parts):
        assert put_part(client, upload, n, blob[n * part:(n + 1) * part], csrf).status_code == 201
    assert client.get(f"/disclose/sealed/uploads/{upload}").get_json()["complete"] is True

    sealed = seal_disclosure(setup, VALUES, attachments=[attachment], case_key=case_key, case_id=case_id)
    response = post_json(client, "/disclose/sealed", sealed.body, csrf)
    assert response.status_code == 201, response.text
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM sealed_uploads").fetchone()[0] == 0
    (ref,) = ctx.db.execute("SELECT ref FROM cases").fetchone()
    ctx.db.conn.close()
    assert not any((installation.data_dir / "sealed-uploads").iterdir())

    officer = client.application.test_client()
    sign_in(officer, installation.officer)
    page = officer.get(f"/console/cases/{ref}").text
    assert "ledger.pdf" in page
    download = officer.get(f"/console/cases/{ref}/attachments/{attachment_id}")
    assert download.status_code == 200 and download.data == data
    # The discloser's status page without script lists the file the browser sealed.
    from tests.support.discloser import open_status
    discloser = client.application.test_client()
    assert open_status(discloser, sealed.receipt).status_code == 303
    assert "ledger.pdf" in discloser.get("/status").text


def test_an_upload_needs_a_blob_size_the_budget_and_its_token(installation):
    from portal.core.config import load_settings
    from portal.web.app import create_app
    small = crypto.padded_blob_size(10)
    app = create_app(settings=load_settings(installation.data_dir, upload_bytes_per_day=2 * small))
    app.config["TESTING"] = True
    client = app.test_client()
    setup = get_setup(client)
    csrf = setup["csrf_token"]
    bad = post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": 1000}, csrf)
    assert bad.status_code == 400 and bad.get_json()["error"] == "malformed"
    assert post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": crypto.padded_blob_size(10)},
                     "not the token").status_code == 403
    # The first part must begin as a sealed file does.
    begun = post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": crypto.padded_blob_size(10)}, csrf)
    upload = begun.get_json()["upload"]
    wrong = put_part(client, upload, 0, bytes(crypto.padded_blob_size(10)), csrf)
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "malformed"
    # A declaration charges nothing (the fresh review's M1): each part is charged as it is stored.
    uploads = [post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": small}, csrf) for _ in range(5)]
    assert [u.status_code for u in uploads] == [201] * 5
    _, blob, _ = seal_file(crypto.new_case_key(), os.urandom(16).hex(), "a.pdf", b"0123456789")
    assert len(blob) == small
    for begun_ in uploads[:2]:
        assert put_part(client, begun_.get_json()["upload"], 0, blob, csrf).status_code == 201
    # Two files stored spend the budget: a third part and a new declaration wait until tomorrow.
    third = put_part(client, uploads[2].get_json()["upload"], 0, blob, csrf)
    assert third.status_code == 429 and third.get_json()["error"] == "budget"
    over = post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": small}, csrf)
    assert over.status_code == 429 and over.get_json()["error"] == "budget"


def test_an_upload_keeps_only_its_day_and_is_gone_the_next_morning(client, installation):
    import datetime as dt
    setup = get_setup(client)
    csrf = setup["csrf_token"]
    _, blob, _ = seal_file(crypto.new_case_key(), os.urandom(16).hex(), "a.pdf", b"a short file")
    first = post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": len(blob)}, csrf).get_json()["upload"]
    assert put_part(client, first, 0, blob, csrf).status_code == 201
    ctx = open_context(installation.data_dir)
    (day,) = ctx.db.execute("SELECT day FROM sealed_uploads").fetchone()
    assert day == setup["day"]
    from portal.core.clock import day_start_timestamp
    path = installation.data_dir / "sealed-uploads" / first
    assert path.stat().st_mtime == day_start_timestamp(day, ctx.settings.timezone)
    # Made two days ago (its day moved back, not the clock): the next upload's start removes it.
    two_days_ago = (dt.date.fromisoformat(day) - dt.timedelta(days=2)).isoformat()
    ctx.db.execute("UPDATE sealed_uploads SET day = ?", [two_days_ago])
    ctx.db.conn.commit()
    assert post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": len(blob)}, csrf).status_code == 201
    assert ctx.db.execute("SELECT COUNT(*) FROM sealed_uploads WHERE id = ?", [first]).fetchone()[0] == 0
    assert not path.exists()
    assert client.get(f"/disclose/sealed/uploads/{first}").status_code == 404


def test_an_expired_upload_takes_no_part_and_finishes_no_disclosure_before_any_purge(client, installation):
    # The fresh review's L2: an upload past its expiry, not yet deleted (no purge has run since),
    # once took parts and was finished into a case. Its day is checked on every use.
    import datetime as dt
    setup = get_setup(client)
    csrf = setup["csrf_token"]
    case_key, case_id = crypto.new_case_key(), os.urandom(16).hex()
    attachment_id, blob, meta = seal_file(case_key, case_id, "ledger.pdf", os.urandom(100 * 1024))
    finished = upload_blob(client, csrf, blob)
    partial = post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": len(blob)}, csrf).get_json()["upload"]
    assert put_part(client, partial, 0, blob[:64 * 1024], csrf).status_code == 201
    two_days_ago = (dt.date.fromisoformat(setup["day"]) - dt.timedelta(days=2)).isoformat()
    ctx = open_context(installation.data_dir)
    ctx.db.execute("UPDATE sealed_uploads SET day = ?", [two_days_ago])
    ctx.db.conn.commit()
    later = put_part(client, partial, 1, blob[64 * 1024:], csrf)
    assert later.status_code == 404 and later.get_json()["error"] == "not-found"
    assert client.get(f"/disclose/sealed/uploads/{finished}").status_code == 404
    sealed = seal_disclosure(setup, VALUES, case_key=case_key, case_id=case_id,
                             attachments=[{"id": attachment_id, "upload": finished, "meta": meta}])
    answer = post_json(client, "/disclose/sealed", sealed.body, csrf)
    assert answer.status_code != 201
    assert ctx.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0
    ctx.db.conn.close()


def test_huge_declarations_spend_neither_the_budget_nor_the_floor_and_a_file_still_goes_in(installation):
    # The fresh review's M1: declaring uploads, with no byte sent, once spent the day's byte budget
    # and held the free-space floor, so seven blocked everyone's files for the day.
    import shutil

    from portal.core.config import load_settings
    from portal.web.app import create_app
    from tests.support import csrf_token, disclosure_fields, post_multipart, receipt_from
    size = crypto.padded_blob_size(256 * 1024 * 1024)
    free = shutil.disk_usage(installation.data_dir).free
    # Room above the floor for one such upload (with 128 MiB to spare), and a day's budget of
    # seven of them and 100 KiB: less than a 300 KB file once seven are declared, if they counted.
    app = create_app(settings=load_settings(installation.data_dir, free_space_floor_bytes=free - size - size // 2,
                                            upload_bytes_per_day=7 * size + 100 * 1024))
    app.config["TESTING"] = True
    client = app.test_client()
    csrf = get_setup(client)["csrf_token"]
    declared = [post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": size}, csrf) for _ in range(7)]
    assert [d.status_code for d in declared] == [201] * 7, declared[-1].text
    # A declaration bigger than the room left is refused, and takes nothing either.
    too_big = post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": crypto.padded_blob_size(free)}, csrf)
    assert too_big.status_code == 503 and too_big.get_json()["error"] == "paused"
    # An ordinary disclosure without script, with a 300 KB file, goes in.
    other = app.test_client()
    token = csrf_token(other.get("/disclose").text)
    page = post_multipart(other, "/disclose", disclosure_fields(token, "The ledger is attached."),
                          [("attachments", "ledger.txt", b"ledger line\n" * 25_000)])
    assert page.status_code == 200, page.text[:300]
    assert receipt_from(page.text)
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM attachments").fetchone()[0] == 1
    ctx.db.conn.close()


def test_a_failure_while_storing_keeps_nothing_and_gives_the_upload_back(client, installation, monkeypatch):
    from portal.casework import workflow
    setup = get_setup(client)
    csrf = setup["csrf_token"]
    case_key, case_id = crypto.new_case_key(), os.urandom(16).hex()
    data = os.urandom(70_000)
    attachment_id, blob, meta = seal_file(case_key, case_id, "a.pdf", data)
    from tests.support.sealing import upload_blob
    upload = upload_blob(client, csrf, blob)
    attachment = {"id": attachment_id, "upload": upload, "meta": meta}
    sealed = seal_disclosure(setup, VALUES, attachments=[attachment], case_key=case_key, case_id=case_id)

    def fails(*args, **kwargs):
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(workflow, "refresh_due", fails)
    client.application.config["PROPAGATE_EXCEPTIONS"] = False
    assert post_json(client, "/disclose/sealed", sealed.body, csrf).status_code == 500
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0
    assert ctx.db.execute("SELECT COUNT(*) FROM attachments").fetchone()[0] == 0
    assert not [b for b in database.blobs(installation.data_dir) if not b.endswith(".part")]
    assert client.get(f"/disclose/sealed/uploads/{upload}").get_json()["complete"] is True
    monkeypatch.undo()
    # The same page sends it again (its token was not spent; the spent ticket is replaced by asking
    # again): stored, with the file.
    get_setup(client)
    assert post_json(client, "/disclose/sealed", sealed.body, csrf).status_code == 201
    assert ctx.db.execute("SELECT COUNT(*) FROM attachments").fetchone()[0] == 1


def test_yesterdays_upload_lasts_until_six_in_the_morning(client, installation, monkeypatch):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from portal.intake import sealed_uploads
    setup = get_setup(client)
    csrf = setup["csrf_token"]
    _, blob, _ = seal_file(crypto.new_case_key(), os.urandom(16).hex(), "a.pdf", b"short")
    upload = post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": len(blob)}, csrf).get_json()["upload"]
    ctx = open_context(installation.data_dir)
    zone = ZoneInfo(ctx.settings.timezone)
    today = dt.date.fromisoformat(setup["day"])
    ctx.db.execute("UPDATE sealed_uploads SET day = ?", [(today - dt.timedelta(days=1)).isoformat()])
    ctx.db.conn.commit()
    for hour, kept in ((5, True), (6, False)):
        moment = dt.datetime.combine(today, dt.time(hour, 30), zone).astimezone(dt.timezone.utc)
        monkeypatch.setattr(sealed_uploads, "now_utc", lambda: moment)
        monkeypatch.setattr(sealed_uploads, "today", lambda tz: today.isoformat())
        sealed_uploads.purge_expired(ctx)
        assert (client.get(f"/disclose/sealed/uploads/{upload}").status_code == 200) is kept


def test_an_upload_is_bound_to_a_new_session_only_with_the_form_token_it_was_begun_under(client):
    """After the browser is closed its session is gone: the page sends the form token the upload
    was begun under, and the portal binds the upload to the new session (SECURITY.md, "Resuming an
    upload after a reload"); any other token, or none, is answered as for another's upload."""
    csrf = get_setup(client)["csrf_token"]
    _, blob, _ = seal_file(crypto.new_case_key(), os.urandom(16).hex(), "ledger.pdf", os.urandom(300 * 1024))
    upload = post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": len(blob)}, csrf).get_json()["upload"]
    part = 64 * 1024
    for n in range(3):
        assert put_part(client, upload, n, blob[n * part:(n + 1) * part], csrf).status_code == 201
    again = client.application.test_client()  # the browser closed and opened: a new session
    new_csrf = get_setup(again)["csrf_token"]
    path = f"/disclose/sealed/uploads/{upload}/session"
    assert again.get(f"/disclose/sealed/uploads/{upload}").status_code == 404
    forged = csrf[:-4] + ("AAAA" if not csrf.endswith("AAAA") else "BBBB")
    for token in (new_csrf, forged, get_setup(client.application.test_client())["csrf_token"]):
        refused = post_json(again, path, {"v": 1, "form_token": token}, new_csrf)
        assert refused.status_code == 404 and refused.get_json()["error"] == "not-found"
    # Without the new session's own token (the portal's CSRF check refuses it first): nothing moves.
    assert post_json(again, path, {"v": 1, "form_token": csrf}, "not the session's").status_code in (400, 403)
    assert again.get(f"/disclose/sealed/uploads/{upload}").status_code == 404
    moved = post_json(again, path, {"v": 1, "form_token": csrf}, new_csrf)
    assert moved.status_code == 200 and moved.get_json()["parts"] == 3
    assert client.get(f"/disclose/sealed/uploads/{upload}").status_code == 404  # the old session's no more
    for n in range(3, -(-len(blob) // part)):
        assert put_part(again, upload, n, blob[n * part:(n + 1) * part], new_csrf).status_code == 201
    assert again.get(f"/disclose/sealed/uploads/{upload}").get_json()["complete"] is True


def test_a_form_token_older_than_any_upload_lives_binds_nothing(client, monkeypatch):
    # The token signed into the browser's record carries the time it was signed; once it is older
    # than an upload can live (30 hours: the day rule's longest), a new session cannot take the
    # upload with it, though it is still stored.
    import itsdangerous.timed

    from portal.intake import sealed_uploads
    csrf = get_setup(client)["csrf_token"]
    _, blob, _ = seal_file(crypto.new_case_key(), os.urandom(16).hex(), "ledger.pdf", os.urandom(100 * 1024))
    upload = post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": len(blob)}, csrf).get_json()["upload"]
    real = itsdangerous.timed.TimestampSigner.get_timestamp

    def later(seconds):
        monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp",
                            lambda self: real(self) + seconds)
        again = client.application.test_client()
        return again, get_setup(again)["csrf_token"]

    path = f"/disclose/sealed/uploads/{upload}/session"
    again, new_csrf = later(sealed_uploads.LONGEST_LIFE_SECONDS + 60)
    refused = post_json(again, path, {"v": 1, "form_token": csrf}, new_csrf)
    assert refused.status_code == 404 and refused.get_json()["error"] == "not-found"
    again, new_csrf = later(sealed_uploads.LONGEST_LIFE_SECONDS - 60)
    assert post_json(again, path, {"v": 1, "form_token": csrf}, new_csrf).status_code == 200


def test_uploads_begun_for_nothing_are_capped_per_page_and_for_everyone(installation, monkeypatch):
    # The second review of issue 27: beginning an upload is charged nothing, and each leaves a row
    # and an empty file until it expires; 300 were begun in 2.4 s by one client.
    from portal.core.config import load_settings
    from portal.intake import sealed_uploads
    from portal.web.app import create_app
    app = create_app(settings=load_settings(installation.data_dir, max_files=3))
    app.config["TESTING"] = True
    size = crypto.padded_blob_size(1000)

    def begin(client, csrf):
        return post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": size}, csrf)

    page = app.test_client()
    csrf = get_setup(page)["csrf_token"]
    answers = [begin(page, csrf) for _ in range(8)]
    assert [a.status_code for a in answers] == [201] * 6 + [400] * 2
    assert answers[-1].get_json()["error"] == "too-many"
    monkeypatch.setattr(sealed_uploads, "OPEN_UPLOADS_AT_MOST", 10)
    others = [app.test_client() for _ in range(3)]
    tokens = [get_setup(other)["csrf_token"] for other in others]
    codes = [begin(other, token).status_code for other, token in zip(others, tokens) for _ in range(2)]
    assert codes == [201, 201, 201, 201, 503, 503]  # 6 + 4 open: the next is told to come back
    files = [p for p in (installation.data_dir / "sealed-uploads").iterdir() if p.is_file()]
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM sealed_uploads").fetchone()[0] == len(files) == 10
    ctx.db.conn.close()
