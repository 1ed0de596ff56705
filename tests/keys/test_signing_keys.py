"""Officers' Ed25519 signing keys (issue 21): made in the officer's own flow (enrolment, the forced
first sign-in, or the next sign-in of an officer who has none), wrapped under their passphrase only,
carried by the console session beside the private key, re-wrapped by a passphrase change, kept by a
rotation; administrators get none. Through HTTP."""
from __future__ import annotations


import pytest

import crypto
from portal.core.context import open_context
from portal.keys import accounts, officer_sessions, roster, signing_keys
from tests.conftest import Officer, add_account, run_cli
from tests.support.enrolment import STRONG, enrol, invite, sign_in, take_second_factor_step
from tests.support import csrf_token
from tests.support import database


def signing_columns(data_dir, email) -> tuple[bytes | None, bytes | None]:
    with database.connect(data_dir) as conn:
        return conn.execute("SELECT signing_public_key, wrapped_signing_key FROM accounts WHERE email = ?",
                            [email]).fetchone()


def seed_of(data_dir, person) -> bytes:
    """The stored seed, unwrapped with the person's passphrase; it must be a seed of the stored public key."""
    public, wrapped = signing_columns(data_dir, person.email)
    assert public is not None and wrapped is not None
    seed = crypto.unwrap_private_key(wrapped, person.passphrase)
    assert len(seed) == 32 and crypto.signing_public_key(seed) == public
    return seed


def _resume(ctx, cookie):
    try:
        return officer_sessions.resume(ctx, cookie)
    finally:
        ctx.db.conn.close()


@pytest.fixture
def resume_in(installation):
    def resume(client, app):
        cookie = client.get_cookie(app.config["PORTAL_CONSOLE_COOKIE"]).value
        return _resume(open_context(installation.data_dir), cookie)
    return resume


def test_an_invited_officer_gets_a_signing_key_at_enrolment_and_the_session_carries_it(app, installation,
                                                                                      resume_in):
    data_dir = installation.data_dir
    path = invite(data_dir, "cleo@agency.govt.nz", "Cleo New", "Audit and Risk")
    client = app.test_client()
    cleo, _ = enrol(client, path, "cleo@agency.govt.nz", "Cleo New")
    seed = seed_of(data_dir, cleo)
    # The session the last step opened holds it beside the private key.
    who = resume_in(client, app)
    assert who.signing_key == seed and len(who.private_key) == 32
    assert crypto.public_key_of(who.private_key) == who.account.public_key
    assert who.account.signing_public_key == crypto.signing_public_key(seed)
    # So does a later sign-in's, and it is the same key (made once).
    later = app.test_client()
    assert sign_in(later, cleo).status_code == 303
    assert resume_in(later, app).signing_key == seed
    assert seed_of(data_dir, cleo) == seed
    # It is its own key, not derived from the X25519 one, and it opens with no other passphrase.
    assert seed != who.private_key
    with pytest.raises(crypto.WrongPassphrase):
        crypto.unwrap_private_key(signing_columns(data_dir, cleo.email)[1], cleo.passphrase + "x")


def test_an_operator_made_officer_gets_one_at_the_forced_first_sign_in(app, installation, resume_in):
    data_dir = installation.data_dir
    given = add_account(data_dir, "officer", "eve@agency.govt.nz", "Eve Scripted", ["Audit and Risk"],
                        complete_setup=False)
    # The command line made none, and set-up credentials open none.
    assert signing_columns(data_dir, given.email) == (None, None)
    client = app.test_client()
    assert sign_in(client, given).headers["Location"].endswith("/console/setup/passphrase")
    assert signing_columns(data_dir, given.email) == (None, None)
    page = client.get("/console/setup/passphrase")
    assert client.post("/console/setup/passphrase", data={"csrf_token": csrf_token(page.text), "passphrase": STRONG,
                                                          "passphrase_again": STRONG}).status_code == 303
    assert signing_columns(data_dir, given.email) == (None, None)  # nothing stored before the last step
    eve, _ = take_second_factor_step(client, Officer(given.email, given.name, STRONG, ""))
    seed = seed_of(data_dir, eve)
    assert resume_in(client, app).signing_key == seed
    with pytest.raises(crypto.WrongPassphrase):
        crypto.unwrap_private_key(signing_columns(data_dir, eve.email)[1], given.passphrase)


def test_the_test_officers_have_one_with_no_extra_step(installation):
    for person in (installation.officer, installation.other_officer):
        seed_of(installation.data_dir, person)


def test_an_officer_made_before_signing_keys_gets_one_at_the_next_sign_in(app, installation, resume_in):
    data_dir, officer = installation.data_dir, installation.officer
    with database.connect(data_dir) as conn:
        conn.execute("UPDATE accounts SET signing_public_key = NULL, wrapped_signing_key = NULL WHERE email = ?",
                     [officer.email])
    client = app.test_client()
    # A failed sign-in makes none (its valid code is used up by it: issue 22).
    assert sign_in(client, officer, code=officer.code(), passphrase="not the passphrase at all").status_code == 400
    assert signing_columns(data_dir, officer.email) == (None, None)
    assert sign_in(client, officer).status_code == 303
    seed = seed_of(data_dir, officer)
    assert resume_in(client, app).signing_key == seed
    # Made once: the next sign-in opens the same one.
    again = app.test_client()
    assert sign_in(again, officer).status_code == 303
    assert resume_in(again, app).signing_key == seed and seed_of(data_dir, officer) == seed
    from tests.support.audit import account_id, events
    made = [e for e in events(data_dir) if e[0] == "signing_key_made"]
    assert len(made) == 3  # Ana's and Ben's set-ups, then this sign-in
    assert made[-1][1] == account_id(data_dir, officer.email)


def test_an_administrator_gets_none(app, installation, resume_in):
    admin = add_account(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
    client = app.test_client()
    assert sign_in(client, admin).status_code == 303
    assert signing_columns(installation.data_dir, admin.email) == (None, None)
    who = resume_in(client, app)
    assert who.is_admin and who.signing_key is None and who.account.signing_public_key is None
    # Nor after changing its passphrase.
    page = client.get("/console/account")
    assert client.post("/console/account/passphrase", data={
        "csrf_token": csrf_token(page.text), "current_passphrase": admin.passphrase,
        "passphrase": STRONG, "passphrase_again": STRONG}).status_code == 303
    admin.passphrase = STRONG
    assert sign_in(app.test_client(), admin).status_code == 303
    assert signing_columns(installation.data_dir, admin.email) == (None, None)


def test_a_passphrase_change_keeps_the_key_and_re_wraps_it_under_the_new_passphrase_only(app, installation,
                                                                                         resume_in):
    data_dir, officer = installation.data_dir, installation.officer
    client = app.test_client()
    assert sign_in(client, officer).status_code == 303
    public_before, wrapped_before = signing_columns(data_dir, officer.email)
    seed = seed_of(data_dir, officer)
    page = client.get("/console/account")
    assert client.post("/console/account/passphrase", data={
        "csrf_token": csrf_token(page.text), "current_passphrase": officer.passphrase,
        "passphrase": STRONG, "passphrase_again": STRONG}).status_code == 303
    old = officer.passphrase
    public_after, wrapped_after = signing_columns(data_dir, officer.email)
    assert public_after == public_before and wrapped_after != wrapped_before
    with pytest.raises(crypto.WrongPassphrase):
        crypto.unwrap_private_key(wrapped_after, old)
    officer.passphrase = STRONG
    assert seed_of(data_dir, officer) == seed
    # The session kept across the change still holds it; a new sign-in opens it with the new passphrase.
    assert resume_in(client, app).signing_key == seed
    fresh = app.test_client()
    assert sign_in(fresh, officer).status_code == 303
    assert resume_in(fresh, app).signing_key == seed


def test_a_session_without_the_seed_cannot_strand_it_in_a_passphrase_change(app, installation):
    data_dir, officer = installation.data_dir, installation.officer
    ctx = open_context(data_dir)
    try:
        # A console session that began before the key was made holds only the private key.
        from portal.keys import accounts, credentials
        account = accounts.get_account_by_email(ctx, officer.email)
        private_key = credentials.unwrap_with_passphrase(ctx, account.id, officer.passphrase)
        cookie = officer_sessions.start_session(ctx, account, private_key)
        assert officer_sessions.resume(ctx, cookie).signing_key is None
    finally:
        ctx.db.conn.close()
    client = app.test_client()
    client.set_cookie(app.config["PORTAL_CONSOLE_COOKIE"], cookie)
    page = client.get("/console/account")
    assert page.status_code == 200
    before = signing_columns(data_dir, officer.email)
    refused = client.post("/console/account/passphrase", data={
        "csrf_token": csrf_token(page.text), "current_passphrase": officer.passphrase,
        "passphrase": STRONG, "passphrase_again": STRONG})
    assert refused.status_code == 400 and "Sign out and sign in again" in refused.text
    assert signing_columns(data_dir, officer.email) == before
    seed_of(data_dir, officer)  # still opens with the passphrase in use


def test_a_rotation_makes_a_new_signing_key_and_signs_it_into_the_roster(app, installation, resume_in):
    """Replacing one's keys in the console replaces the signing key too, under the new passphrase
    only, and the old key signs the replacement into the channel's roster."""
    data_dir, officer = installation.data_dir, installation.officer
    seed = seed_of(data_dir, officer)
    client = app.test_client()
    assert sign_in(client, officer).status_code == 303
    page = client.get("/console/account/keys")
    done = client.post("/console/account/keys", data={
        "csrf_token": csrf_token(page.text), "current_passphrase": officer.passphrase,
        "passphrase": STRONG, "passphrase_again": STRONG})
    assert done.status_code == 303
    ctx = open_context(data_dir)
    try:
        account = accounts.get_account_by_email(ctx, officer.email)
        new_seed = signing_keys.open_seed(ctx, account.id, STRONG)
        assert new_seed is not None and new_seed != seed
        assert signing_keys.open_seed(ctx, account.id, officer.passphrase) is None
        state = roster.load(ctx, 1)
        assert state.problem is None and state.admits(account)
        assert state.verified.readers[account.id].signing_key == crypto.signing_public_key(new_seed)
    finally:
        ctx.db.conn.close()
    assert resume_in(client, app).signing_key == new_seed  # this browser's new session holds it


def test_nothing_of_the_seed_is_stored_in_clear(app, installation, resume_in):
    data_dir = installation.data_dir
    path = invite(data_dir, "cleo@agency.govt.nz", "Cleo New", "Audit and Risk")
    client = app.test_client()
    cleo, _ = enrol(client, path, "cleo@agency.govt.nz", "Cleo New")
    assert sign_in(app.test_client(), cleo).status_code == 303
    seeds = [seed_of(data_dir, p) for p in (installation.officer, installation.other_officer, cleo)]
    assert resume_in(client, app).signing_key == seeds[2]
    run_cli(data_dir, "audit", "verify")
    for file in data_dir.rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            for seed in seeds:
                for text in (seed, seed.hex().encode(), seed[:16], seed[16:]):
                    assert text not in data, file


def test_a_swapped_signing_wrapping_is_caught_and_the_officer_signs_in_without_one(app, installation, resume_in):
    data_dir, officer = installation.data_dir, installation.officer
    with database.connect(data_dir) as conn:
        # Both open with the same passphrase: only the check against the public key tells them apart.
        conn.execute("UPDATE accounts SET wrapped_signing_key = wrapped_private_key WHERE email = ?",
                     [officer.email])
    client = app.test_client()
    assert sign_in(client, officer).status_code == 303
    assert resume_in(client, app).signing_key is None
    from tests.support.audit import events
    assert "signing_key_unusable" in [e[0] for e in events(data_dir)]
