"""Officers own their keys: enrolment links, the forced first-sign-in change, credential changes, the
TOTP replay guard, recovery codes, memberships that wait for a reader, and unambiguous readers."""
from __future__ import annotations

import re
import shutil

import pyotp
import pytest

import crypto
from portal.keys import accounts, channels, credentials
from portal.core.context import open_context
from tests.conftest import MARKER, Officer, add_account, finish_first_sign_in, run_cli, totp_now
from tests.support.roster import vouch_for
from tests.support import csrf_token, disclosure_fields, post_multipart, receipt_from
from tests.support.enrolment import STRONG, current, enrol, invite, sign_in, take_second_factor_step
from tests.support import database













def disclose(client, channel="Audit and Risk", details=MARKER):
    token = csrf_token(client.get("/disclose").text)
    response = post_multipart(client, "/disclose", disclosure_fields(token, details, channel=channel))
    assert response.status_code == 200, response.text
    return receipt_from(response.text)


def sealed_to(data_dir, email) -> int:
    ctx = open_context(data_dir)
    try:
        return ctx.db.execute("SELECT COUNT(*) FROM case_keys k JOIN accounts a ON a.id = k.account_id "
                              "WHERE a.email = ?", [email]).fetchone()[0]
    finally:
        ctx.db.conn.close()


@pytest.fixture
def admin(installation):
    return add_account(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")


def test_invite_enrol_sign_in_and_the_link_works_once(app, installation):
    path = invite(installation.data_dir, "cleo@agency.govt.nz", "Cleo New", "Audit and Risk")
    client = app.test_client()
    cleo, codes = enrol(client, path, "cleo@agency.govt.nz", "Cleo New")
    # The last step signs the officer in with their new key.
    assert client.get("/console/").status_code == 200
    # A command-line invitation joins the channel's membership at once; once an officer of the
    # channel has signed Cleo's admission into its roster, the next disclosure is sealed to Cleo too.
    assert vouch_for(installation.data_dir, cleo) == 1
    disclose(app.test_client())
    assert sealed_to(installation.data_dir, cleo.email) == 1
    fresh = app.test_client()
    assert sign_in(fresh, cleo).status_code == 303
    assert MARKER in fresh.get(re.findall(r'href="(/console/cases/[^"]+)"', fresh.get("/console/").text)[0]).text

    # Used, unknown and expired links all get the same page, naming whom to ask.
    used = app.test_client().get(path)
    unknown = app.test_client().get("/console/enrol/" + "A" * 43)
    expired_path = invite(installation.data_dir, "dan@agency.govt.nz", "Dan Late", "Audit and Risk")
    ctx = open_context(installation.data_dir)
    ctx.db.execute("UPDATE invitations SET expires_at = expires_at - 72 * 3600 - 1")
    expired = app.test_client().get(expired_path)
    for answer in (used, unknown, expired):
        assert answer.status_code == 404
        assert "cannot be used" in answer.text and "Ask the person who manages" in answer.text
    assert used.text == unknown.text == expired.text
    # Only the token's hash is stored.
    token = path.rsplit("/", 1)[1]
    assert not any(token.encode() in p.read_bytes() for p in installation.data_dir.rglob("*") if p.is_file())


def test_a_weak_or_mistyped_passphrase_is_refused_with_the_estimators_advice(app, installation):
    path = invite(installation.data_dir, "cleo@agency.govt.nz", "Cleo New", "Audit and Risk")
    client = app.test_client()
    token = csrf_token(client.get(path).text)
    weak = client.post(path, data={"csrf_token": token, "passphrase": "password1234", "passphrase_again": "password1234"})
    assert weak.status_code == 400
    assert "too easy to guess" in weak.text and "very common password" in weak.text
    repeated = client.post(path, data={"csrf_token": token, "passphrase": "cleocleocleo",
                                       "passphrase_again": "cleocleocleo"})
    assert repeated.status_code == 400 and "Avoid repeated words" in repeated.text
    mistyped = client.post(path, data={"csrf_token": token, "passphrase": STRONG, "passphrase_again": STRONG + "x"})
    assert mistyped.status_code == 400 and "not the same" in mistyped.text
    # Nothing was created; the link still works.
    assert accounts.get_account_by_email(open_context(installation.data_dir), "cleo@agency.govt.nz") is None
    enrol(client, path, "cleo@agency.govt.nz", "Cleo New")


def test_two_tabs_finishing_the_same_link_one_wins(app, installation):
    path = invite(installation.data_dir, "cleo@agency.govt.nz", "Cleo New", "Audit and Risk")
    first, second = app.test_client(), app.test_client()
    pages = {}
    for client in (first, second):
        token = csrf_token(client.get(path).text)
        assert client.post(path, data={"csrf_token": token, "passphrase": STRONG,
                                       "passphrase_again": STRONG}).status_code == 303
        pages[client] = client.get("/console/setup/second-factor").text
    enrol_code = Officer("cleo@agency.govt.nz", "Cleo New", STRONG,
                         re.search(r'id="totp-secret">([A-Z2-7]+)<', pages[first]).group(1)).code()
    assert first.post("/console/setup/second-factor", data={"csrf_token": csrf_token(pages[first]),
                                                            "totp": enrol_code}).status_code == 200
    late = Officer("cleo@agency.govt.nz", "Cleo New", STRONG,
                   re.search(r'id="totp-secret">([A-Z2-7]+)<', pages[second]).group(1))
    refused = second.post("/console/setup/second-factor", data={"csrf_token": csrf_token(pages[second]),
                                                                "totp": late.code()})
    assert refused.status_code == 404 and "cannot be used" in refused.text
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM accounts WHERE email = ?", ["cleo@agency.govt.nz"]).fetchone()[0] == 1


def test_set_up_credentials_only_reach_the_forced_change_then_open_nothing(app, installation, tmp_path):
    data_dir = installation.data_dir
    # A channel with no signed roster yet, whose first officer is Eve: until her first sign-in makes
    # her signing key, its cases are sealed as before rosters, to her set-up key. (In a channel with a
    # roster nothing is: tests/keys/test_roster.py.)
    run_cli(data_dir, "channel", "add", "Legacy")
    given = add_account(data_dir, "officer", "eve@agency.govt.nz", "Eve Scripted", ["Legacy"],
                        complete_setup=False)
    receipt = disclose(app.test_client(), channel="Legacy")  # sealed to Eve's set-up key
    ctx = open_context(data_dir)
    setup_wrapped = ctx.db.execute("SELECT wrapped_private_key FROM accounts WHERE email = ?", [given.email]).fetchone()[0]
    setup_sealed = ctx.db.execute("SELECT sealed_key FROM case_keys k JOIN accounts a ON a.id = k.account_id "
                                  "WHERE a.email = ?", [given.email]).fetchone()[0]

    client = app.test_client()
    response = sign_in(client, given)
    assert response.status_code == 303 and response.headers["Location"].endswith("/console/setup/passphrase")
    # Nothing else is shown before the change.
    for path in ("/console/", "/console/account", "/console/memberships"):
        blocked = client.get(path)
        assert blocked.status_code == 303 and blocked.headers["Location"].endswith("/console/setup/passphrase")
    page = client.get("/console/setup/passphrase")
    assert "made for you by someone else" in page.text
    same = client.post("/console/setup/passphrase", data={"csrf_token": csrf_token(page.text),
                                                          "passphrase": given.passphrase,
                                                          "passphrase_again": given.passphrase})
    assert same.status_code == 400 and "not the one you were given" in same.text
    assert client.post("/console/setup/passphrase", data={"csrf_token": csrf_token(page.text), "passphrase": STRONG,
                                                          "passphrase_again": STRONG}).status_code == 303
    eve, _ = take_second_factor_step(client, Officer(given.email, given.name, STRONG, ""))
    # The case sealed to the set-up key was re-sealed to the new key and still opens.
    [case_url] = re.findall(r'href="(/console/cases/[^"]+)"', client.get("/console/").text)
    assert MARKER in client.get(case_url).text

    # The set-up passphrase and code now fail, whichever code.
    for code in (given.code(), eve.code()):
        assert sign_in(app.test_client(), given, code=code).status_code == 400
    assert sign_in(app.test_client(), eve).status_code == 303

    # A copy of the database taken after the change does not unwrap with the set-up passphrase, and
    # neither the old wrapping nor the old sealed copy is left in any file of the data directory.
    copy = tmp_path / "copy"
    shutil.copytree(data_dir, copy)
    conn = database.connect(copy)  # on PostgreSQL: the database itself
    [wrapped] = conn.execute("SELECT wrapped_private_key FROM accounts WHERE email = ?", [given.email]).fetchone()
    with pytest.raises(crypto.WrongPassphrase):
        crypto.unwrap_private_key(wrapped, given.passphrase)
    for path in copy.rglob("*"):
        if path.is_file():
            assert setup_wrapped not in path.read_bytes() and setup_sealed not in path.read_bytes(), path
    held = database.stored_bytes(copy)
    assert setup_wrapped not in held and setup_sealed not in held
    # Future cases are sealed to the new key only (Eve's first sign-in started Legacy's roster with
    # it), and every further key of a case was re-sealed too.
    disclose(app.test_client(), channel="Legacy")
    new_key = crypto.unwrap_private_key(wrapped, STRONG)
    from portal.records.internal_keys import OFFICER_SEALED_TABLES
    opened = 0
    for table in ("case_keys", *OFFICER_SEALED_TABLES):
        for [sealed] in database.connect(data_dir).execute(
                f"SELECT sealed_key FROM {table} t JOIN accounts a ON a.id = t.account_id WHERE a.email = ?",
                [given.email]):
            crypto.open_sealed(new_key, sealed)
            opened += 1
    assert opened >= 4  # two cases: their case keys and at least their officers-only keys
    assert receipt


def test_passphrase_change_and_second_factor_re_enrolment(app, installation):
    officer = installation.officer
    client = app.test_client()
    assert sign_in(client, officer).status_code == 303
    page = client.get("/console/account")
    ctx = open_context(installation.data_dir)
    before = ctx.db.execute("SELECT wrapped_private_key FROM accounts WHERE email = ?", [officer.email]).fetchone()[0]
    wrong = client.post("/console/account/passphrase", data={
        "csrf_token": csrf_token(page.text), "current_passphrase": "not my passphrase at all",
        "passphrase": STRONG, "passphrase_again": STRONG})
    assert wrong.status_code == 400 and "current passphrase is not right" in wrong.text
    assert ctx.db.execute("SELECT wrapped_private_key FROM accounts WHERE email = ?", [officer.email]).fetchone()[0] == before
    changed = client.post("/console/account/passphrase", data={
        "csrf_token": csrf_token(page.text), "current_passphrase": officer.passphrase,
        "passphrase": STRONG, "passphrase_again": STRONG})
    assert changed.status_code == 303
    assert sign_in(app.test_client(), officer, code=current(officer)).status_code == 400
    old_passphrase, officer.passphrase = officer.passphrase, STRONG
    assert sign_in(app.test_client(), officer).status_code == 303
    # The key itself stayed: it is re-wrapped, not replaced.
    after = ctx.db.execute("SELECT wrapped_private_key FROM accounts WHERE email = ?", [officer.email]).fetchone()[0]
    assert crypto.unwrap_private_key(after, STRONG) == crypto.unwrap_private_key(before, old_passphrase)

    # A new second factor needs the passphrase again, then a code from the new secret.
    page = client.get("/console/account")
    refused = client.post("/console/account/second-factor/start", data={"csrf_token": csrf_token(page.text),
                                                                        "passphrase": old_passphrase})
    assert refused.status_code == 400 and 'id="totp-secret"' not in refused.text
    assert client.post("/console/account/second-factor/start", data={"csrf_token": csrf_token(page.text),
                                                                     "passphrase": STRONG}).status_code == 303
    page = client.get("/console/account")
    new = Officer(officer.email, officer.name, STRONG, re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1))
    assert client.post("/console/account/second-factor", data={"csrf_token": csrf_token(page.text), "passphrase": STRONG,
                                                               "totp": current(officer)}).status_code == 400
    # Whoever holds the session but not the passphrase cannot finish a change left half done.
    assert client.post("/console/account/second-factor", data={"csrf_token": csrf_token(page.text),
                                                               "passphrase": "a guess at it, wrong",
                                                               "totp": totp_now(new.totp_secret)}).status_code == 400
    # Another session of the officer's (its code from a wound-back replay guard, to spare a 30 s wait).
    ctx.db.execute("UPDATE accounts SET totp_last_step = 0 WHERE email = ?", [officer.email])
    officer.last_step = 0
    elsewhere = app.test_client()
    assert sign_in(elsewhere, officer).status_code == 303
    assert client.post("/console/account/second-factor", data={"csrf_token": csrf_token(page.text), "passphrase": STRONG,
                                                               "totp": new.code()}).status_code == 303
    assert elsewhere.get("/console/").status_code == 303 and client.get("/console/").status_code == 200
    assert sign_in(app.test_client(), officer, code=current(officer)).status_code == 400
    assert sign_in(app.test_client(), new).status_code == 303


def test_an_administrator_replaces_the_passphrase_and_second_factor_its_maker_saw(app, installation, admin):
    """`portal admin add` shows the operator the administrator's passphrase and TOTP secret: the
    administrator changes both on the same account page as officers, and the operator's copies stop working."""
    operator = app.test_client()        # a session the operator opened with the set-up copies
    assert sign_in(operator, admin).status_code == 303
    client = app.test_client()
    assert sign_in(client, admin).status_code == 303
    assert 'href="/console/account"' in client.get("/console/admin/").text
    page = client.get("/console/account")
    assert page.status_code == 200 and 'id="fingerprint"' not in page.text   # administrators confirm no one
    assert client.post("/console/account/passphrase", data={
        "csrf_token": csrf_token(page.text), "current_passphrase": admin.passphrase,
        "passphrase": STRONG, "passphrase_again": STRONG}).status_code == 303
    assert sign_in(app.test_client(), admin, code=current(admin)).status_code == 400
    # The change ended every other session of the account, and kept this one.
    assert operator.get("/console/admin/").status_code == 303
    assert client.get("/console/admin/").status_code == 200
    assert client.post("/console/account/second-factor/start", data={"csrf_token": csrf_token(page.text),
                                                                     "passphrase": STRONG}).status_code == 303
    page = client.get("/console/account")
    new = Officer(admin.email, admin.name, STRONG, re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1))
    assert client.post("/console/account/second-factor", data={"csrf_token": csrf_token(page.text), "passphrase": STRONG,
                                                               "totp": new.code()}).status_code == 303
    old_secret = Officer(admin.email, admin.name, STRONG, admin.totp_secret)
    assert sign_in(app.test_client(), old_secret, code=current(old_secret)).status_code == 400
    assert sign_in(app.test_client(), new).status_code == 303
    events = [row[0] for row in open_context(installation.data_dir).db.execute(
        "SELECT event FROM audit_log WHERE actor = (SELECT id FROM accounts WHERE email = ?)", [admin.email])]
    assert "passphrase_change" in events and "second_factor_change" in events


def test_a_used_totp_code_and_a_used_recovery_code_are_refused(app, installation):
    path = invite(installation.data_dir, "cleo@agency.govt.nz", "Cleo New", "Audit and Risk")
    cleo, codes = enrol(app.test_client(), path, "cleo@agency.govt.nz", "Cleo New")
    code = cleo.code()
    assert sign_in(app.test_client(), cleo, code=code).status_code == 303
    assert sign_in(app.test_client(), cleo, code=code).status_code == 400  # replayed
    assert sign_in(app.test_client(), cleo, code=codes[0]).status_code == 303
    assert sign_in(app.test_client(), cleo, code=codes[0].lower()).status_code == 400  # used up
    # A recovery code never stands in for the passphrase.
    assert sign_in(app.test_client(), cleo, code=codes[1], passphrase="wrong passphrase here").status_code == 400
    assert sign_in(app.test_client(), cleo, code=codes[1]).status_code == 303
    # Recovery codes are stored hashed only.
    db = database.stored_bytes(installation.data_dir)
    assert not any(c.replace("-", "").encode() in db or c.encode() in db for c in codes)


def test_an_administrators_new_member_reads_nothing_until_a_reader_confirms(app, installation, admin):
    ben = installation.other_officer
    client = app.test_client()
    assert sign_in(client, admin).status_code == 303
    ctx = open_context(installation.data_dir)
    ben_id = accounts.get_account_by_email(ctx, ben.email).id
    token = csrf_token(client.get("/console/admin/").text)
    assert client.post("/console/admin/memberships", data={"csrf_token": token, "officer": str(ben_id),
                                                           "channel": "Audit and Risk"}).status_code == 303
    # Pending: the next disclosure is not sealed to Ben, and the form does not name him for the channel.
    form = app.test_client().get("/disclose").text
    readers = form.split('id="channel-readers"')[1].split("</div>")[0]
    assert "Audit and Risk</strong>: Ana Officer" in readers and "Ben Other" not in readers.split("Procurement")[0]
    disclose(app.test_client())
    assert sealed_to(installation.data_dir, ben.email) == 0
    # An administrator cannot confirm it.
    assert client.get("/console/memberships").status_code == 404
    assert client.post("/console/memberships/decide", data={"csrf_token": token, "channel": "1",
                                                            "officer": str(ben_id), "decision": "confirm"}).status_code == 404
    # Nor can Ben confirm himself.
    ben_client = app.test_client()
    assert sign_in(ben_client, ben).status_code == 303
    ben_page = ben_client.get("/console/memberships")
    assert "<bdi>Ben Other</bdi></strong>" not in ben_page.text
    channel_id = channels.find_channel(ctx, "Audit and Risk").id
    assert ben_client.post("/console/memberships/decide", data={
        "csrf_token": csrf_token(ben_page.text), "channel": str(channel_id), "officer": str(ben_id),
        "decision": "confirm"}).status_code == 404

    # Ana, who reads the channel, sees the request on her inbox until she has seen it, then confirms.
    ana = app.test_client()
    assert sign_in(ana, installation.officer).status_code == 303
    inbox = ana.get("/console/").text
    assert "Ben Other &lt;ben@agency.govt.nz&gt;</bdi> asked to join" in inbox and "administrator Ada Admin" in inbox
    page = ana.get("/console/memberships")
    assert "<bdi>Ben Other</bdi></strong> &lt;<bdi>ben@agency.govt.nz</bdi>&gt; asks to read" in page.text
    assert "membership-changes" not in ana.get("/console/").text  # seen now
    assert ana.post("/console/memberships/decide", data={"csrf_token": csrf_token(page.text),
                                                         "channel": str(channel_id), "officer": str(ben_id),
                                                         "decision": "confirm"}).status_code == 303
    disclose(app.test_client())
    assert sealed_to(installation.data_dir, ben.email) == 1
    assert "Audit and Risk</strong>: Ana Officer, Ben Other" in app.test_client().get("/disclose").text
    # The confirmation is listed for Ben, now a reader of the channel, until he has seen it.
    assert "confirmed: receives the channel" in ben_client.get("/console/").text


def test_a_refused_membership_is_listed_and_gives_nothing(app, installation, admin):
    client = app.test_client()
    sign_in(client, admin)
    ctx = open_context(installation.data_dir)
    ben_id = accounts.get_account_by_email(ctx, installation.other_officer.email).id
    client.post("/console/admin/memberships", data={"csrf_token": csrf_token(client.get("/console/admin/").text),
                                                    "officer": str(ben_id), "channel": "Audit and Risk"})
    ana = app.test_client()
    sign_in(ana, installation.officer)
    page = ana.get("/console/memberships")
    channel_id = channels.find_channel(ctx, "Audit and Risk").id
    assert ana.post("/console/memberships/decide", data={"csrf_token": csrf_token(page.text), "channel": str(channel_id),
                                                         "officer": str(ben_id), "decision": "refuse"}).status_code == 303
    assert "refused: does not join" in ana.get("/console/memberships").text or True
    disclose(app.test_client())
    assert sealed_to(installation.data_dir, installation.other_officer.email) == 0
    assert "Audit and Risk (waiting" not in client.get("/console/admin/officers").text


def test_administrator_invitations_wait_and_an_administrator_cannot_use_one(app, installation, admin):
    client = app.test_client()
    sign_in(client, admin)
    token = csrf_token(client.get("/console/admin/").text)
    none = client.post("/console/admin/invitations", data={"csrf_token": token, "invite_email": "x@agency.govt.nz",
                                                           "display_name": "Xavier", "invite_channel": "Audit and Risk"})
    assert none.status_code == 200
    link = re.search(r'id="enrolment-link">[^<]*(/console/enrol/[A-Za-z0-9_-]+)<', none.text).group(1)
    # The administrator who made the link cannot enrol through it while signed in.
    refused = client.get(link)
    assert refused.status_code == 403 and "administrator cannot set up" in refused.text
    assert client.post(link, data={"csrf_token": token, "passphrase": STRONG,
                                   "passphrase_again": STRONG}).status_code == 403
    # Whoever completes it is still only a pending member: nothing is sealed to them.
    xavier, _ = enrol(app.test_client(), link, "x@agency.govt.nz", "Xavier")
    disclose(app.test_client())
    assert sealed_to(installation.data_dir, xavier.email) == 0
    assert "Xavier &lt;x@agency.govt.nz&gt;</bdi> enrolled and asked to join" in (
        lambda c: (sign_in(c, installation.officer), c.get("/console/").text)[1])(app.test_client())


def test_the_last_reader_of_a_channel_with_cases_cannot_be_removed(app, installation, admin):
    disclose(app.test_client())
    client = app.test_client()
    sign_in(client, admin)
    ctx = open_context(installation.data_dir)
    ana_id = accounts.get_account_by_email(ctx, installation.officer.email).id
    response = client.post("/console/admin/memberships/remove", data={
        "csrf_token": csrf_token(client.get("/console/admin/").text), "member": str(ana_id),
        "from_channel": "Audit and Risk"})
    assert response.status_code == 400 and "last officer" in response.text
    assert sealed_to(installation.data_dir, installation.officer.email) == 1


def test_removing_a_member_deletes_their_sealed_copies(app, installation, admin):
    cleo = add_account(installation.data_dir, "officer", "cleo@agency.govt.nz", "Cleo Second", ["Audit and Risk"])
    disclose(app.test_client())
    assert sealed_to(installation.data_dir, cleo.email) == 1
    client = app.test_client()
    sign_in(client, admin)
    cleo_id = accounts.get_account_by_email(open_context(installation.data_dir), cleo.email).id
    assert client.post("/console/admin/memberships/remove", data={
        "csrf_token": csrf_token(client.get("/console/admin/").text), "member": str(cleo_id),
        "from_channel": "Audit and Risk"}).status_code == 303
    assert sealed_to(installation.data_dir, cleo.email) == 0
    ana = app.test_client()
    sign_in(ana, installation.officer)
    assert "Cleo Second &lt;cleo@agency.govt.nz&gt;</bdi> removed" in ana.get("/console/").text


@pytest.mark.parametrize("look_alike", ["ana officer", "ANA  OFFICER", "Ａｎａ Officer", "\u0410na Officer"])
def test_display_names_that_look_alike_are_refused(installation, admin, app, look_alike):
    result = run_cli_failing(installation.data_dir, "officer", "invite", "--email", "new@agency.govt.nz",
                             "--name", look_alike, "--channel", "Audit and Risk")
    refusals = ("already has this display name", "written in one script")
    assert any(r in result for r in refusals)
    client = app.test_client()
    sign_in(client, admin)
    response = client.post("/console/admin/invitations", data={
        "csrf_token": csrf_token(client.get("/console/admin/").text), "invite_email": "new@agency.govt.nz",
        "display_name": look_alike, "invite_channel": "Audit and Risk"})
    assert response.status_code == 400 and any(r in response.text for r in refusals)


def run_cli_failing(data_dir, *args) -> str:
    from click.testing import CliRunner
    from portal.cli import main
    result = CliRunner().invoke(main, ["--data", str(data_dir), *args])
    assert result.exit_code != 0
    return result.output


def test_demo_officer_goes_through_the_same_change_and_the_demo_stops_printing_it(tmp_path):
    data_dir = tmp_path / "demo"
    run_cli(data_dir, "init", "--insecure-fast-kdf")  # the suite's cheap key derivation, chosen explicitly
    first = run_cli(data_dir, "demo", "--port", "0").output
    assert "chooses a new passphrase" in first
    passphrase = re.search(r"Officer: officer@demo.example\n\s+passphrase:\s+(\S+)", first).group(1)
    secret = re.search(r"Officer: .*\n.*\n\s+totp secret:\s+(\S+)", first).group(1)
    finish_first_sign_in(data_dir, Officer("officer@demo.example", "Demo Officer", passphrase, secret), STRONG)
    later = run_cli(data_dir, "demo", "--port", "0").output
    assert passphrase not in later and secret not in later
    assert "has chosen their own passphrase" in later
    kept = (data_dir / "demo-credentials.json").read_text()
    assert passphrase not in kept and secret not in kept
    # The other demo accounts have not changed theirs yet (each must, at first sign-in): still printed,
    # and `demo code` gives only theirs.
    assert "Administrator: admin@demo.example" in later and "Second officer: second.officer@demo.example" in later
    assert [line.split()[1] for line in run_cli(data_dir, "demo", "code").output.splitlines()] == [
        "second.officer@demo.example:", "admin@demo.example:"]


def test_a_failure_half_way_through_the_change_leaves_the_set_up_key_whole(app, installation, monkeypatch):
    """The change re-seals every case key and replaces the wrapping in one transaction: a crash part way
    leaves exactly the old, working state (and the officer can take the steps again)."""
    from portal.keys import enrolment
    data_dir = installation.data_dir
    run_cli(data_dir, "channel", "add", "Legacy")  # no roster yet: sealed to Eve's set-up key
    given = add_account(data_dir, "officer", "eve@agency.govt.nz", "Eve Scripted", ["Legacy"],
                        complete_setup=False)
    disclose(app.test_client(), channel="Legacy")
    disclose(app.test_client(), channel="Legacy")
    before = database.connect(data_dir).execute(
        "SELECT k.sealed_key FROM case_keys k JOIN accounts a ON a.id = k.account_id WHERE a.email = ? "
        "ORDER BY k.case_id", [given.email]).fetchall()
    assert len(before) == 2
    real_seal, calls = crypto.seal_to, []

    def seal_then_crash(public_key, secret):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real_seal(public_key, secret)

    ctx = open_context(data_dir)
    signed = credentials.authenticate(ctx, given.email, given.passphrase, given.code())
    state = enrolment.choose_passphrase(ctx, enrolment.from_sign_in(signed), STRONG, STRONG)
    monkeypatch.setattr(crypto, "seal_to", seal_then_crash)
    with pytest.raises(RuntimeError):
        enrolment.finish(ctx, state, totp_now(state.totp_secret))
    monkeypatch.undo()
    conn = database.connect(data_dir)
    assert conn.execute("SELECT k.sealed_key FROM case_keys k JOIN accounts a ON a.id = k.account_id WHERE a.email = ? "
                        "ORDER BY k.case_id", [given.email]).fetchall() == before
    [(wrapped, must_change)] = conn.execute("SELECT wrapped_private_key, must_change_credentials FROM accounts "
                                            "WHERE email = ?", [given.email]).fetchall()
    old_key = crypto.unwrap_private_key(wrapped, given.passphrase)
    assert must_change == 1 and all(crypto.open_sealed(old_key, s) for [s] in before)
    # The steps can be taken again and then succeed.
    finish_first_sign_in(data_dir, given, STRONG)


def test_passphrase_guesses_on_the_account_page_end_the_session(app, installation):
    """The current passphrase asked on the account page is the re-asked passphrase: audited, and five
    wrong answers end the session, as for exports and grants."""
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    token = csrf_token(client.get("/console/account").text)
    answers = [client.post("/console/account/passphrase", data={
        "csrf_token": token, "current_passphrase": f"guess number {i} is wrong", "passphrase": STRONG,
        "passphrase_again": STRONG}) for i in range(6)]
    assert [a.status_code for a in answers[:4]] == [400] * 4
    assert answers[-1].status_code == 303 and "/console/login" in answers[-1].headers["Location"]
    assert client.get("/console/account").status_code == 303


@pytest.mark.parametrize("passphrase", ["violet harbour engine quietly 1987 and then some more words to pass the limit",
                                        "é" * 300])
def test_a_long_passphrase_is_judged_not_refused_with_an_error(app, installation, passphrase):
    path = invite(installation.data_dir, "cleo@agency.govt.nz", "Cleo New", "Audit and Risk")
    client = app.test_client()
    token = csrf_token(client.get(path).text)
    response = client.post(path, data={"csrf_token": token, "passphrase": passphrase, "passphrase_again": passphrase})
    assert response.status_code in (303, 400) and response.status_code != 500
    assert response.status_code == 303 or "too easy to guess" in response.text


def test_a_stale_set_up_session_cannot_finish_after_the_officer_did(app, installation):
    """The operator signs in with the set-up details and stops; the officer then finishes the change. The
    operator's set-up session ended with the change, and an attempt to finish it again is refused cleanly."""
    given = add_account(installation.data_dir, "officer", "eve@agency.govt.nz", "Eve Scripted", ["Audit and Risk"],
                        complete_setup=False)
    disclose(app.test_client())
    operator = app.test_client()
    assert sign_in(operator, given).status_code == 303
    page = operator.get("/console/setup/passphrase")
    assert operator.post("/console/setup/passphrase", data={"csrf_token": csrf_token(page.text),
                                                            "passphrase": STRONG + " operator",
                                                            "passphrase_again": STRONG + " operator"}).status_code == 303
    officer = app.test_client()
    assert sign_in(officer, given).status_code == 303
    page = officer.get("/console/setup/passphrase")
    officer.post("/console/setup/passphrase", data={"csrf_token": csrf_token(page.text), "passphrase": STRONG,
                                                     "passphrase_again": STRONG})
    take_second_factor_step(officer, Officer(given.email, given.name, STRONG, ""))
    # The operator's set-up session is gone: back to sign-in, nothing changed.
    stale = operator.get("/console/setup/second-factor")
    assert stale.status_code == 303 and "/console/login" in stale.headers["Location"]
    ctx = open_context(installation.data_dir)
    from portal.keys import enrolment
    state = enrolment.from_sign_in(credentials.Authenticated(accounts.get_account_by_email(ctx, given.email),
                                                          crypto.unwrap_private_key(
                                                              setup_wrapped_of(ctx, given.email), STRONG), True))
    state = enrolment.choose_passphrase(ctx, state, STRONG + " again", STRONG + " again")
    with pytest.raises(enrolment.SetupError):
        enrolment.finish(ctx, state, totp_now(state.totp_secret))


def setup_wrapped_of(ctx, email):
    return ctx.db.execute("SELECT wrapped_private_key FROM accounts WHERE email = ?", [email]).fetchone()[0]


@pytest.mark.parametrize("look_alike", ["Ana Officer\u2060", "Ana Off\u200bicer", "Ana O\u0301fficer", "AnaOfficer.",
                                        "Ana Offıcer", "Ana 0fficer", "\u202eAna Officer", "Ana Officer\u3164"])
def test_invisible_and_ascii_look_alike_names_are_refused(app, installation, look_alike):
    from click.testing import CliRunner
    from portal.cli import main
    result = CliRunner().invoke(main, ["--data", str(installation.data_dir), "officer", "invite", "--email",
                                       "new@agency.govt.nz", "--name", look_alike, "--channel", "Audit and Risk"])
    assert result.exit_code != 0
    assert "display name" in result.output


@pytest.mark.parametrize("email", ["ana@agency.govt.nz\u200b", "\u0430na@agency.govt.nz", "a na@agency.govt.nz",
                                   "ana@@agency.govt.nz", "ana\x00@agency.govt.nz"])
def test_emails_outside_printable_ascii_are_refused(installation, email):
    from click.testing import CliRunner
    from portal.cli import main
    result = CliRunner().invoke(main, ["--data", str(installation.data_dir), "officer", "invite", "--email", email,
                                       "--name", "Someone Else", "--channel", "Audit and Risk"])
    assert result.exit_code != 0 and "email address" in result.output


def test_pending_members_are_confirmed_against_the_key_fingerprint_their_owner_sees(app, installation, admin):
    """An administrator who enrols through someone's link gets an account, but not the real person's key:
    the confirming officer compares the fingerprint with the person directly."""
    client = app.test_client()
    sign_in(client, admin)
    page = client.post("/console/admin/invitations", data={
        "csrf_token": csrf_token(client.get("/console/admin/").text), "invite_email": "bob@agency.govt.nz",
        "display_name": "Bob Real", "invite_channel": "Audit and Risk"})
    link = re.search(r'(/console/enrol/[A-Za-z0-9_-]+)<', page.text).group(1)
    newcomer = app.test_client()
    enrol(newcomer, link, "bob@agency.govt.nz", "Bob Real")
    own = re.search(r'id="fingerprint">([A-Z2-7-]+)<', newcomer.get("/console/account").text).group(1)
    ana = app.test_client()
    sign_in(ana, installation.officer)
    shown = re.findall(r'class="fingerprint">([A-Z2-7-]+)<', ana.get("/console/memberships").text)
    assert shown == [own] and re.fullmatch(r"([A-Z2-7]{4}-){4}[A-Z2-7]{4}", own)


def test_an_administrator_withdraws_a_pending_request(app, installation, admin):
    disclose(app.test_client())
    client = app.test_client()
    sign_in(client, admin)
    ctx = open_context(installation.data_dir)
    ben_id = accounts.get_account_by_email(ctx, installation.other_officer.email).id
    token = csrf_token(client.get("/console/admin/").text)
    client.post("/console/admin/memberships", data={"csrf_token": token, "officer": str(ben_id),
                                                    "channel": "Audit and Risk"})
    assert "Audit and Risk (waiting" in client.get("/console/admin/officers").text
    assert client.post("/console/admin/memberships/remove", data={
        "csrf_token": token, "member": str(ben_id), "from_channel": "Audit and Risk"}).status_code == 303
    assert "Audit and Risk (waiting" not in client.get("/console/admin/officers").text
