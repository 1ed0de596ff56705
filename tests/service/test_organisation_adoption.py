"""An existing single installation brought into a service (issue 29): `portal org adopt SLUG --name
NAME --from DATA_DIR --service DIR`, then every case still opens for its officer through
/o/<slug>/, its discloser's receipt still works there, and `portal audit verify` still holds
against the head printed before."""
from __future__ import annotations

import re
import sqlite3

import pytest
from werkzeug.test import Client

from portal.service.dispatch import service_app
from portal.service.operator import operator_dir
from portal.service.registry import data_dir_of, organisation
from tests.conftest import MARKER, run_cli
from tests.service.test_organisations import make_service, portal
from tests.service.test_service_operator import sign_in
from tests.support import csrf_token, disclosure_fields, files_containing, post_multipart, receipt_from
from tests.support.console import ATTACHMENT


def disclose_at_the_root(app) -> str:
    client = app.test_client()
    form = client.get("/disclose")
    sent = post_multipart(client, "/disclose", disclosure_fields(csrf_token(form.text), MARKER),
                          [("attachments", "minutes.pdf", ATTACHMENT)])
    assert sent.status_code == 200, sent.text
    return receipt_from(sent.text)


def adopt(service, source, *extra):
    return portal("org", "adopt", "north", "--name", "North Council", "--from", str(source),
                  "--service", str(service), *extra)


@pytest.mark.parametrize("how", ["moved", "copied"])
def test_an_adopted_installation_keeps_every_case_readable_and_its_audit_chain(tmp_path, installation, app, how):
    receipt = disclose_at_the_root(app)
    source = installation.data_dir
    head = run_cli(source, "audit", "head").output.strip().splitlines()[-1]
    service = make_service(tmp_path)

    done = adopt(service, source, *(["--copy"] if how == "copied" else []))
    assert done.exit_code == 0, done.output
    assert how in done.output and "/o/north/" in done.output
    assert not source.exists()
    north = data_dir_of(service, "north")
    assert portal("org", "list", "--service", str(service)).output.splitlines()[-1] == "north\tNorth Council"
    # The chain is the one it was, whole: it holds the head printed before the move.
    assert portal("--data", str(north), "audit", "verify", "--expect", head).exit_code == 0
    assert files_containing(north, MARKER.encode()) == []

    client = Client(service_app(service))
    assert sign_in(client, "/o/north", installation.officer).status_code == 303
    inbox = client.get("/o/north/console/").text
    [ref] = re.findall(r'href="/o/north/console/cases/([^"/]+)"', inbox)
    case = client.get(f"/o/north/console/cases/{ref}")
    assert case.status_code == 200 and MARKER in case.text
    attachment = re.search(r'href="(/o/north/console/cases/[^"]+/attachments/[^"]+)"', case.text).group(1)
    assert client.get(attachment).data == ATTACHMENT
    # The discloser's receipt opens their case at its new place; the other organisations have nothing of it.
    discloser = Client(service_app(service))
    page = discloser.get("/o/north/status")
    opened = discloser.post("/o/north/status", data={"csrf_token": csrf_token(page.text), "receipt": receipt},
                            follow_redirects=True)
    assert 'id="case-status"' in opened.text
    for other in ("a", "b"):
        assert files_containing(data_dir_of(service, other), ref.encode()) == []
    # The service's chain says what was done, naming the organisation by its service id.
    db = sqlite3.connect(operator_dir(service) / "portal.db")
    [(detail,)] = db.execute("SELECT detail FROM audit_log WHERE event = 'organisation_adopt'").fetchall()
    db.close()
    assert detail == f'{{"organisation":"{organisation(service, "north").id}"}}' and "north" not in detail


def test_an_adoption_that_cannot_be_made_moves_nothing(tmp_path, installation):
    service = make_service(tmp_path)
    source = installation.data_dir
    not_one = tmp_path / "empty"
    not_one.mkdir()
    for where, words in ((not_one, "not the data directory of an installation"),
                         (data_dir_of(service, "a"), "part of the service"),
                         (service, "not the data directory of an installation")):
        refused = adopt(service, where)
        assert refused.exit_code != 0 and words in refused.output, refused.output
    taken = portal("org", "adopt", "a", "--name", "Again", "--from", str(source), "--service", str(service))
    assert taken.exit_code != 0 and "already an organisation" in taken.output
    # A broken audit chain is refused before anything moves.
    db = sqlite3.connect(source / "portal.db")
    db.execute("""UPDATE audit_log SET detail = '{"x":1}' WHERE seq = (SELECT max(seq) FROM audit_log)""")
    db.commit()
    db.close()
    refused = adopt(service, source)
    assert refused.exit_code != 0 and "does not verify" in refused.output
    assert (source / "installation.json").is_file() and not data_dir_of(service, "north").exists()
    assert [line.split("\t")[0] for line in portal("org", "list", "--service", str(service)).output.splitlines()] == ["a", "b"]
