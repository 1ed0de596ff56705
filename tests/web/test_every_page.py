"""Every page of both audiences and of the administrator, in a seeded installation (issue 25): no
duplicate `id`; every `<label for>` names a field of the label's own form; no text reading like a
Python repr (`Reader(id=`, `<... object at`, `None`, `True`, `False`, `{'`) or an internal key
(`by_operator`, `no_further_action`). The pages come from the app's own URL map: a GET route
neither visited here nor in SKIPPED (with its reason) fails `test_every_get_route_is_walked`.

The world is built once for the module (a dozen sign-ins and forms), then only read."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from werkzeug.exceptions import NotFound

from tests.conftest import add_account, run_cli
from tests.support import csrf_token, disclosure_fields, post_multipart, receipt_from
from tests.support.console import sign_in
from tests.support.enrolment import enrol, invite
from tests.support.referral import authority_id
from tests.support.workflow import open_status, post

# GET routes that answer something other than an HTML page, so have nothing of these checks to pass.
SKIPPED = {
    "static": "stylesheets, scripts and images",
    "discloser.security_txt": "plain text (RFC 9116)",
    "discloser.acknowledgement": "the signed acknowledgement, a JSON download",
    "console.attachment": "a discloser's file, downloaded as application/octet-stream",
    "statistics.export": "CSV",
}

# The pages whose templates another part of issue 25 rebuilds (casework/case.html and _thread.html,
# intake/status.html and _thread.html): checked by their own test, so that the rest stays readable.
REBUILT = {"console.case", "discloser.status_open"}

REPR = re.compile(
    r"\b[A-Z]\w*\((?:id|name|ref|seq)=|<[\w.]+ object at|\bNone\b(?!\.| [a-z])|\bTrue\b|\bFalse\b|\{'|\['"
)
INTERNAL_KEY = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
FIELDS = {"input", "select", "textarea", "button", "output", "meter", "progress"}
# Text in these is shown as code on purpose (commands, file formats), or is not text at all.
NOT_PROSE = {"code", "pre", "kbd", "samp"}
NOT_TEXT = {"script", "style", "template"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
        "wbr"}


class PageAudit(HTMLParser):
    """One page read as a browser would: its ids, labels, fields (with the form each is in) and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: Counter[str] = Counter()
        self.fields: dict[str, int | None] = {}
        self.labels: list[tuple[str, int | None]] = []
        self.prose: list[str] = []
        self.shown: list[str] = []
        self._form: int | None = None
        self._forms = 0
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._forms += 1
            self._form = self._forms
        if a.get("id"):
            self.ids[a["id"]] += 1
            if tag in FIELDS and a.get("type") != "hidden":
                self.fields[a["id"]] = self._form
        if tag == "label" and a.get("for"):
            self.labels.append((a["for"], self._form))
        for name in ("title", "aria-label", "placeholder", "alt"):
            if a.get(name):
                self.shown.append(a[name])
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.shown.append(a["value"])
        if tag not in VOID:
            self._open.append(tag)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        if tag in self._open:
            while self._open and self._open.pop() != tag:
                pass

    def handle_data(self, data):
        if any(t in NOT_TEXT for t in self._open):
            return
        self.shown.append(data)
        if not any(t in NOT_PROSE for t in self._open):
            self.prose.append(data)


def problems_of(html: str) -> list[str]:
    page = PageAudit()
    page.feed(html)
    found = [f"id {i!r} used {n} times" for i, n in page.ids.items() if n > 1]
    for target, form in page.labels:
        if target not in page.fields:
            found.append(f"<label for={target!r}> names no field")
        elif page.fields[target] != form:
            found.append(f"<label for={target!r}> names a field of another form")
    shown = " ".join(" ".join(page.shown).split())
    found += [f"reads like Python: {m.group(0)!r} in ...{shown[max(0, m.start() - 60):m.end() + 20]}..."
              for m in REPR.finditer(shown)]
    prose = " ".join(" ".join(page.prose).split())
    found += [f"internal key: {m.group(0)!r} in ...{prose[max(0, m.start() - 60):m.end() + 20]}..."
              for m in INTERNAL_KEY.finditer(prose)]
    return found


@dataclass
class Walk:
    app: object
    pages: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (endpoint, html)
    endpoints: set[str] = field(default_factory=set)

    def endpoint(self, path: str, method: str = "GET") -> str:
        try:
            endpoint, _ = self.app.url_map.bind("localhost").match(path.split("?")[0], method=method)
        except NotFound:
            return "error page"
        return endpoint

    def read(self, label: str, response, path: str, method: str = "GET", status: int = 200) -> str:
        assert response.status_code == status, (label, response.status_code, response.text[:300])
        assert response.mimetype == "text/html", (label, response.mimetype)
        endpoint = self.endpoint(path, method)
        if method == "GET":
            self.endpoints.add(endpoint)
        if endpoint == "discloser.status" and 'id="case-status"' in response.text:
            endpoint = "discloser.status_open"  # the opened status page (intake/status.html)
        self.pages[label] = (endpoint, response.text)
        return response.text

    def get(self, label: str, client, path: str, status: int = 200) -> str:
        return self.read(label, client.get(path), path, status=status)


def _disclose(client, details: str, files=(), **fields) -> tuple[str, str]:
    token = csrf_token(client.get("/disclose").text)
    response = post_multipart(client, "/disclose", disclosure_fields(token, details, **fields), files)
    assert response.status_code == 200, response.text
    return receipt_from(response.text), response


def _signed_in(app, person):
    client = app.test_client()
    assert sign_in(client, person).status_code == 303
    return client


@pytest.fixture(scope="module")
def walk(tmp_path_factory) -> Walk:
    data_dir = tmp_path_factory.mktemp("every-page") / "data"
    run_cli(data_dir, "init", "--insecure-fast-kdf")
    run_cli(data_dir, "channel", "add", "Audit and Risk", "--description", "Internal audit")
    run_cli(data_dir, "channel", "add", "Procurement")
    ana = add_account(data_dir, "officer", "ana@agency.govt.nz", "Ana Officer", ["Audit and Risk"])
    add_account(data_dir, "officer", "ben@agency.govt.nz", "Ben Other", ["Procurement"])
    ada = add_account(data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
    cal = add_account(data_dir, "officer", "cal@agency.govt.nz", "Cal New", ["Procurement"], complete_setup=False)
    out = run_cli(data_dir, "recovery-key", "new", "--threshold", "2", "--shares", "3").output
    [public] = re.findall(r"^public key: ([0-9a-f]{64})$", out, re.M)
    run_cli(data_dir, "channel", "set-recovery", "Audit and Risk", public)  # waits at /console/memberships
    link = invite(data_dir, "dee@agency.govt.nz", "Dee Invited", "Audit and Risk")
    newcomer_link = invite(data_dir, "eli@agency.govt.nz", "Eli Enrolled", "Audit and Risk")

    from portal.web.app import create_app
    app = create_app(data_dir)
    app.config["TESTING"] = True
    w = Walk(app)

    # The discloser: the public pages, a disclosure with a file, its receipt.
    discloser = app.test_client()
    w.get("home", discloser, "/")
    w.get("disclose", discloser, "/disclose")
    for path in ("/verify", "/verify/checker.html", "/keys", "/signing-key", "/status/signed-out"):
        w.get(path, discloser, path)
    w.get("status (closed)", discloser, "/status")
    receipt, answer = _disclose(discloser, "Invoices paid twice to the same supplier.",
                                files=(("attachments", "invoices.pdf", b"%PDF-1.4 " + b"x" * 4000),),
                                summary="Invoices paid twice", contact="Evenings by phone")
    w.read("receipt", answer, "/disclose", method="POST")
    referred_receipt, _ = _disclose(app.test_client(), "A trade secret was passed abroad.",
                                    summary="Secret passed abroad")

    # The officer works the first case: acknowledged, answered, noted; the second is referred.
    officer = _signed_in(app, ana)
    inbox = w.get("inbox", officer, "/console/")
    refs = re.findall(r'data-ref="([^"]+)"', inbox)
    case = "/console/cases/" + refs[-1]
    other = "/console/cases/" + refs[0]
    assert post(officer, case + "/steps", step="acknowledge").status_code == 303
    assert post(officer, case + "/reply", message="Thank you: we are looking into it.").status_code == 303
    assert post(officer, case + "/notes", note="Asked finance for the ledger.").status_code == 303
    ombudsman = authority_id(officer.get(other).text, "An Ombudsman")
    assert post(officer, other + "/referral", authority=ombudsman, concerns="general", consultation="consulted",
                consultation_note="Agreed by message.", reason="It is theirs to look at.").status_code == 303
    token = csrf_token(officer.get("/console/oral").text)
    oral = officer.post("/console/oral", data={
        "csrf_token": token, "channel": "Audit and Risk", "category": "public_funds",
        "summary": "Told in person", "details": "Fuel cards used at weekends.", "disclosed_elsewhere": "no",
        "contact": "Phone only"})
    w.read("oral receipt", oral, "/console/oral", method="POST")

    # The discloser reads and answers.
    status = open_status(discloser, receipt)
    assert 'id="case-status"' in status
    token = csrf_token(status)
    assert post_multipart(discloser, "/status/reply", [("csrf_token", token), ("message", "Here is more.")]
                          ).status_code == 303
    w.get("status (open)", discloser, "/status")
    w.get("earlier messages (discloser)", discloser, "/status/messages?before=2")
    w.get("proof", discloser, "/status/proof")
    open_status(referred := app.test_client(), referred_receipt)
    w.get("status (referred)", referred, "/status")

    # Every officer page, the case's own pages included.
    officer = _signed_in(app, ana)
    w.get("inbox (worked)", officer, "/console/")
    w.get("case", officer, case)
    w.get("case (referred)", officer, other)
    w.get("earlier messages (officer)", officer, case + "/messages?before=2")
    w.get("record", officer, case + "/record")
    w.get("record (referred)", officer, other + "/record")
    [oral_ref] = set(re.findall(r'data-ref="([^"]+)"', officer.get("/console/").text)) - set(refs)
    w.get("record (oral)", officer, f"/console/cases/{oral_ref}/record")
    for path in ("/console/statistics", "/console/oral", "/console/account", "/console/account/keys",
                 "/console/access/", "/console/memberships", "/console/roster", "/console/interests",
                 "/console/close-many", "/console/retention/", "/console/audit"):
        w.get(path + " (officer)", officer, path)
    token = csrf_token(officer.get("/console/").text)
    found = officer.post("/console/search", data={"csrf_token": token, "words": "invoices"})
    w.read("search", found, "/console/search", method="POST")
    found = officer.post("/console/search", data={"csrf_token": token, "words": "nothing-like-this"})
    w.read("search (nothing)", found, "/console/search", method="POST")

    # The administrator's pages.
    admin = _signed_in(app, ada)
    for path in ("/console/admin/", "/console/admin/authorities", "/console/audit", "/console/account"):
        w.get(path + " (admin)", admin, path)
    entry = re.search(r'href="/console/admin/authorities/(\d+)#', admin.get("/console/admin/authorities").text)
    w.get("edit authority", admin, f"/console/admin/authorities/{entry.group(1)}")

    # Signing in and setting up: the sign-in page, an enrolment link, the forced first-sign-in steps.
    w.get("login", app.test_client(), "/console/login")
    w.get("enrol", app.test_client(), link)
    newcomer, codes = enrol(app.test_client(), newcomer_link, "eli@agency.govt.nz", "Eli Enrolled")
    w.get("inbox (waiting to be confirmed)", _signed_in(app, newcomer), "/console/")
    setting_up = app.test_client()
    assert sign_in(setting_up, cal).status_code == 303
    w.get("set-up passphrase", setting_up, "/console/setup/passphrase")
    page = setting_up.get("/console/setup/passphrase").text
    new = cal.passphrase + " chosen by me"
    assert setting_up.post("/console/setup/passphrase", data={
        "csrf_token": csrf_token(page), "passphrase": new, "passphrase_again": new}).status_code == 303
    w.get("set-up second factor", setting_up, "/console/setup/second-factor")

    # Error pages.
    w.get("not found", discloser, "/no-such-page", status=404)
    w.get("case not found", officer, "/console/cases/PD-NOSUCH-CASE", status=404)
    w.read("not allowed", discloser.get("/status/reply"), "/status/reply", method="POST", status=405)
    return w


def _report(walk: Walk, labels) -> str:
    lines = []
    for label in labels:
        found = problems_of(walk.pages[label][1])
        lines += [f"{label}: {p}" for p in found]
    return "\n".join(lines)


def test_every_get_route_is_walked(walk):
    gets = {r.endpoint for r in walk.app.url_map.iter_rules() if "GET" in r.methods}
    assert gets - walk.endpoints - set(SKIPPED) == set()
    assert set(SKIPPED) <= gets  # a skipped route that is gone leaves the list


def test_every_page_has_unique_ids_labels_of_its_own_form_and_no_internal_words(walk):
    labels = [label for label, (endpoint, _) in walk.pages.items() if endpoint not in REBUILT]
    assert len(labels) > 40
    report = _report(walk, labels)
    assert not report, "\n" + report


def test_the_case_page_and_the_status_page_too(walk):
    labels = [label for label, (endpoint, _) in walk.pages.items() if endpoint in REBUILT]
    assert len(labels) == 5
    report = _report(walk, labels)
    assert not report, "\n" + report


@pytest.mark.parametrize("html, problem", [
    ('<form><label for="a">A</label></form><form><input id="a"></form>', "another form"),
    ('<label for="b">B</label><p id="b">', "names no field"),
    ('<p id="c"></p><p id="c"></p>', "used 2 times"),
    ("<p>Recorded by Reader(id=1, name='Ana')</p>", "reads like Python"),
    ("<p>by_operator: False</p>", "internal key"),
    ("<p><code>portal setting set security_contact</code></p>", None),
])
def test_the_checks_themselves(html, problem):
    found = problems_of(html)
    assert any(problem in p for p in found) if problem else found == []

