"""A benchmark's data must be data the portal could have made (issue 23): an installation built by
the builder bench/bench_grants.py uses (tests/support/bench_build.py) passes `portal audit verify`, its
cases open for their officer, and a grant of every case over it keeps the chain intact."""
from __future__ import annotations

from portal.core.context import open_context
from portal.keys import access, accounts, credentials
from portal.store import progress
from tests.conftest import run_cli
from tests.support.bench_build import CHANNEL, build
from tests.support.console import case_links, sign_in

CASES = 30


def test_a_bench_built_installation_passes_audit_verify(tmp_path, monkeypatch):
    data_dir = tmp_path / "bench"
    ana, cat = build(data_dir, CASES)
    verified = run_cli(data_dir, "audit", "verify")
    assert verified.exit_code == 0 and "intact" in verified.output, verified.output

    from portal.web.app import create_app

    app = create_app(data_dir)
    app.config["TESTING"] = True
    client = app.test_client()
    assert sign_in(client, ana).status_code == 303
    links = case_links(client.get("/console/").text)
    assert len(links) >= min(CASES, 25)  # the first page of the inbox
    assert "Matter number" in client.get(links[0]).text

    monkeypatch.setattr(progress, "BATCH_CASES", 7)
    ctx = open_context(data_dir)
    granter = accounts.get_account_by_email(ctx, ana.email)
    grantee = accounts.get_account_by_email(ctx, cat.email)
    key = credentials.unwrap_with_passphrase(ctx, granter.id, ana.passphrase)
    result = access.grant(ctx, granter, key, grantee.id, CHANNEL)
    assert len(result.granted) == CASES and result.stopped_at is None
    assert run_cli(data_dir, "audit", "verify").exit_code == 0
