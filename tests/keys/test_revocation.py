"""Revocation and offboarding (issue 16): an officer who leaves loses every sealed copy of every key of every
case (case key, officers-only key, identity key) and every session at once; the last reader of a case cannot
be removed."""
from __future__ import annotations

from click.testing import CliRunner

from portal.cli import main as portal_cli
from portal.core.context import open_context
from tests.conftest import add_account, run_cli
from tests.support.console import case_links, sign_in
from tests.support.workflow import disclose_to

KEY_TABLES = ("case_keys", "internal_keys", "identity_keys")


def copies_of(ctx, email: str) -> int:
    account_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [email]).fetchone()[0]
    return sum(ctx.db.execute(f"SELECT COUNT(*) FROM {t} WHERE account_id = ?", [account_id]).fetchone()[0]
               for t in KEY_TABLES)


def test_offboarding_deletes_every_copy_ends_sessions_and_spares_the_last_reader(app, installation):
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    disclose_to(app.test_client(), details="Invoices paid twice.", contact="021 555 0199")
    cat_client, ana_client = app.test_client(), app.test_client()
    assert sign_in(cat_client, cat).status_code == 303
    assert sign_in(ana_client, installation.officer).status_code == 303
    [case] = case_links(cat_client.get("/console/").text)
    assert cat_client.get(case).status_code == 200
    ctx = open_context(data_dir)
    assert copies_of(ctx, cat.email) == 3

    out = run_cli(data_dir, "officer", "offboard", "--email", cat.email).output
    assert "3 sealed key copies deleted" in out
    assert copies_of(ctx, cat.email) == 0
    # Cat's live session is gone, and Cat can never sign in again.
    assert cat_client.get(case).status_code == 303
    assert cat_client.get("/console/").status_code == 303
    assert sign_in(app.test_client(), cat).status_code != 303
    assert ctx.db.execute("SELECT COUNT(*) FROM channel_officers co JOIN accounts a ON a.id = co.account_id "
                          "WHERE a.email = ?", [cat.email]).fetchone()[0] == 0
    assert ctx.db.execute("SELECT COUNT(*) FROM audit_log WHERE event = 'offboard'").fetchone()[0] == 1

    # Ana is now the case's last reader: offboarding her is refused and changes nothing.
    refused = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "officer", "offboard",
                                              "--email", installation.officer.email])
    assert refused.exit_code != 0 and "the only officer who can read 1 case," in refused.output
    assert copies_of(ctx, installation.officer.email) == 3
    assert ana_client.get(case).status_code == 200


def test_removing_an_officer_from_a_channel_deletes_their_copies_and_ends_their_sessions(app, installation):
    from tests.support import csrf_token
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    admin = add_account(data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
    disclose_to(app.test_client(), details="Invoices paid twice.", contact="021 555 0199")
    cat_client = app.test_client()
    assert sign_in(cat_client, cat).status_code == 303
    [case] = case_links(cat_client.get("/console/").text)
    admin_client = app.test_client()
    assert sign_in(admin_client, admin).status_code == 303
    ctx = open_context(data_dir)
    ids = {email: i for i, email in ctx.db.execute("SELECT id, email FROM accounts")}

    def remove(email: str):
        token = csrf_token(admin_client.get("/console/admin/").text)
        return admin_client.post("/console/admin/memberships/remove", data={
            "csrf_token": token, "member": str(ids[email]), "from_channel": "Audit and Risk"})

    assert remove(cat.email).status_code == 303
    assert copies_of(ctx, cat.email) == 0
    assert cat_client.get(case).status_code == 303  # signed out everywhere
    assert sign_in(cat_client, cat).status_code == 303 and cat_client.get(case).status_code == 404
    # Ana is now its last reader: removing her is refused, and her copies stay.
    refused = remove(installation.officer.email)
    assert refused.status_code == 400 and "last officer who can read cases of Audit and Risk" in refused.text
    assert copies_of(ctx, installation.officer.email) == 3


def test_an_offboarded_officer_can_never_be_made_a_reader_again(app, installation):
    """Offboarding destroys the wrapped key but a backup may still hold it: the account is not offered or
    accepted as a new member, and its public key is replaced by one whose private half nobody has."""
    from tests.support import csrf_token
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    admin = add_account(data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
    ctx = open_context(data_dir)
    old_public = ctx.db.execute("SELECT public_key FROM accounts WHERE email = ?", [cat.email]).fetchone()[0]
    run_cli(data_dir, "officer", "offboard", "--email", cat.email)
    cat_id, new_public = ctx.db.execute("SELECT id, public_key FROM accounts WHERE email = ?", [cat.email]).fetchone()
    assert new_public != old_public
    client = app.test_client()
    assert sign_in(client, admin).status_code == 303
    page = client.get("/console/admin/officers").text
    assert "Cat Colleague &lt;cat@agency.govt.nz&gt;</option>" not in page
    refused = client.post("/console/admin/memberships", data={"csrf_token": csrf_token(page), "officer": str(cat_id),
                                                               "channel": "Audit and Risk"})
    assert refused.status_code == 400    # not among the choices the form offers
    import pytest
    from portal.keys import accounts, channels, memberships
    with pytest.raises(accounts.AccountError, match="was offboarded"):   # nor accepted below the form
        memberships.request(ctx, accounts.get_account(ctx, accounts.account_id_for(ctx, admin.email)), cat_id,
                            "Audit and Risk")
    assert ctx.db.execute("SELECT COUNT(*) FROM channel_officers WHERE account_id = ?", [cat_id]).fetchone()[0] == 0
    disclose_to(app.test_client())
    assert copies_of(ctx, cat.email) == 0


def test_an_officer_removed_while_a_disclosure_is_being_stored_does_not_receive_it(app, installation, monkeypatch):
    """The readers are chosen again under the write lock: a removal that lands while the receipt's key is
    being derived (seconds, or longer waiting for a slot) keeps the removed officer out of the case."""
    from portal.keys import accounts, channels, memberships
    from portal.intake import receipts
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    admin = add_account(data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
    other = open_context(data_dir)
    derive = receipts.derive_receipt

    def removal_meanwhile(ctx, receipt, wait=None, **kwargs):
        if accounts.account_id_for(other, cat.email) in {o.id for o in channels.channel_officers(other, 1)}:
            memberships.remove(other, accounts.get_account(other, accounts.account_id_for(other, admin.email)),
                               accounts.account_id_for(other, cat.email), "Audit and Risk")
        return derive(ctx, receipt, wait, **kwargs)
    monkeypatch.setattr(receipts, "derive_receipt", removal_meanwhile)
    disclose_to(app.test_client())
    ctx = open_context(data_dir)
    assert copies_of(ctx, cat.email) == 0 and copies_of(ctx, installation.officer.email) == 3
