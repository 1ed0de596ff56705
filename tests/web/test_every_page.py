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
from pathlib import Path

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
    "console.original": "the original of a cleaned file the discloser handed over, a download",
    "statistics.export": "CSV",
    "languages.choose": "sets the lang cookie and goes back to the page (tests/web/test_languages.py)",
    "discloser.sealed_setup": "JSON for the sealing page (issue 27)",
    "discloser.sealed_roots": "JSON for the sealing page (issue 27)",
    "discloser.sealed_bundle_file": "the signed bundle's JSON files (issue 27), served in tests/operations/test_demo_team.py",
    "discloser.sealed_status_setup": "JSON for the sealing page (issue 27)",
    "discloser.sealed_upload_state": "JSON for the sealing page (issue 27)",
    "discloser.sealed_attachment": "a sealed blob for the sealing page, application/octet-stream",
    "discloser.sealed_received": "shown once after a sealed disclosure (a case this world does not have):"
                                 " tests/intake/test_sealed_disclosure.py reads it",
}

# The pages whose templates another part of issue 25 rebuilds (casework/case.html and _thread.html,
# intake/status.html and _thread.html, which the earlier-messages pages include): checked by their
# own test, so that the rest stays readable.
REBUILT = {"console.case", "console.case_messages", "discloser.status_open", "discloser.status_messages"}

REPR = re.compile(
    r"\b[A-Z]\w*\((?:id|name|ref|seq)=|<[\w.]+ object at|\bNone\b(?!\.| [a-z])|\bTrue\b|\bFalse\b|\{'|\['"
)
INTERNAL_KEY = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
# Values the portal stores for a status, a step, a deadline, a ground or a state, never shown alone as
# they are stored (each has words: "Acknowledged", "Waiting for a second officer").
RAW_VALUES = {"received", "acknowledged", "assessing", "investigating", "addressed", "referred", "closed",
              "acknowledge", "consider", "check", "deal", "inform", "respond", "feedback", "update",
              "consent", "investigation", "pending", "released", "confirmed", "officer", "discloser", "nz", "eu"}
# A date as YYYY-MM-DD (people read "7 December 2026"), a size in thousands of bytes (people read
# KB and MB).
MACHINE_WORDS = re.compile(r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}\b|\b[0-9]{4,}(?:,[0-9]{3})* bytes\b")
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
        self.nodes: list[str] = []  # each run of text between tags, stripped
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
            self.nodes.append(data.strip())


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
    found += [f"not as people write it: {m.group(0)!r} in ...{prose[max(0, m.start() - 60):m.end() + 20]}..."
              for m in MACHINE_WORDS.finditer(prose)]
    found += [f"a machine value shown as it is stored: {node!r}" for node in page.nodes if node in RAW_VALUES]
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


def _an_event_written_before_issue_25(data_dir) -> None:
    """A membership record as the portal wrote them before: shown in today's words all the same."""
    from portal.core.context import open_context
    ctx = open_context(data_dir)
    try:
        ctx.db.execute(
            "INSERT INTO membership_events (channel_id, subject, action, actor, day) SELECT id,"
            " 'Old Timer <old@agency.govt.nz>', 'added at the command line', 'the server''s operator',"
            " '2026-01-05' FROM channels WHERE name = 'Audit and Risk'")
        ctx.db.conn.commit()
    finally:
        ctx.db.conn.close()


def _signed_in(app, person):
    client = app.test_client()
    assert sign_in(client, person).status_code == 303
    return client


def _own_totp_clock(monkeypatch) -> None:
    """The world is built before any test's own TOTP clock is set (tests/conftest.py, where the suite
    has one): the portal and the test's officers read one clock of this module's meanwhile."""
    import tests.conftest as conftest
    from portal.keys import second_factor
    if hasattr(conftest, "TotpClock") and hasattr(second_factor, "seconds_now"):
        clock = conftest.TotpClock(movable=True)
        monkeypatch.setattr(conftest, "TOTP_CLOCK", clock)
        monkeypatch.setattr(second_factor, "seconds_now", clock.seconds)


@pytest.fixture(scope="module")
def walk(tmp_path_factory) -> Walk:
    with pytest.MonkeyPatch.context() as monkeypatch:
        _own_totp_clock(monkeypatch)
        return _build_world(tmp_path_factory)


def _build_world(tmp_path_factory) -> Walk:
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
    _an_event_written_before_issue_25(data_dir)
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
    confirmed = discloser.post("/disclose/confirm", data={
        "csrf_token": csrf_token(answer.text), "expected": receipt, "receipt": receipt})
    w.read("receipt confirmed", confirmed, "/disclose/confirm", method="POST")
    referred_receipt, _ = _disclose(app.test_client(), "A trade secret was passed abroad.",
                                    summary="Secret passed abroad")

    # The officer works the first case: acknowledged, answered, noted; the second is referred.
    officer = _signed_in(app, ana)
    inbox = w.get("inbox", officer, "/console/")
    titled = dict(re.findall(r'data-ref="([^"]+)".*?<div class="typed title"><p>([^<]+)</p>', inbox, re.S))
    refs = list(titled)
    by_title = {title: ref for ref, title in titled.items()}
    case = "/console/cases/" + by_title["Invoices paid twice"]
    other = "/console/cases/" + by_title["Secret passed abroad"]
    assert post(officer, case + "/steps", step="acknowledge").status_code == 303
    assert post(officer, case + "/reply", message="Thank you: we are looking into it.").status_code == 303
    assert post(officer, case + "/notes", note="Asked finance for the ledger.").status_code == 303
    ana_id = re.search(r'<option value="([0-9]+)">Ana Officer', officer.get(case).text).group(1)
    assert post(officer, case + "/assign", officer=ana_id).status_code == 303
    # The second has an s 13(2) extension first, so its pages show one (and one then referred).
    assert post(officer, other + "/extension", expected_timeframe="About three months",
                update_every="10").status_code == 303
    ombudsman = authority_id(officer.get(other).text, "An Ombudsman")
    assert post(officer, other + "/referral", authority=ombudsman, concerns="general", consultation="consulted",
                consultation_note="Agreed by message.", reason="It is theirs to look at.").status_code == 303
    token = csrf_token(officer.get("/console/oral").text)
    oral = officer.post("/console/oral", data={
        "csrf_token": token, "channel": "Audit and Risk", "category": "public_funds",
        "summary": "Told in person", "details": "Fuel cards used at weekends.", "disclosed_elsewhere": "no",
        "contact": "Phone only"})
    w.read("oral receipt", oral, "/console/oral", method="POST")
    oral_receipt = receipt_from(oral.text)
    oral_discloser = app.test_client()
    token = csrf_token(oral_discloser.get("/status").text)
    replaced = oral_discloser.post("/status", data={"csrf_token": token, "receipt": oral_receipt})
    w.read("receipt replaced (oral)", replaced, "/status", method="POST")

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

    # Every officer page, the case's own pages included (the same session: each sign-in spends a code).
    w.get("inbox (worked)", officer, "/console/")
    w.get("inbox (one reference)", officer, f"/console/?q={refs[0]}")
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
    w.get("authority contact", admin, f"/console/admin/authorities/{entry.group(1)}/contact")
    removing = f"/console/admin/authorities/{entry.group(1)}/remove"
    asked = admin.post(removing, data={"csrf_token": csrf_token(admin.get("/console/admin/authorities").text)})
    w.read("remove authority asked", asked, removing, method="POST")
    invited = post(admin, "/console/admin/invitations", "/console/admin/", invite_email="fay@agency.govt.nz",
                   display_name="Fay Invited", invite_channel="Audit and Risk")
    w.read("invitation made", invited, "/console/admin/invitations", method="POST")
    asked = post(admin, "/console/audit/export", "/console/audit")
    w.read("passphrase asked again", asked, "/console/audit/export", method="POST")

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
    page = setting_up.get("/console/setup/second-factor").text
    cal.totp_secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    codes = setting_up.post("/console/setup/second-factor", data={"csrf_token": csrf_token(page), "totp": cal.code()})
    w.read("recovery codes", codes, "/console/setup/second-factor", method="POST")
    w.get("enrolment link unusable", app.test_client(), "/console/enrol/no-such-link", status=404)

    # Any other page without parts in its address (one added later included), as the first of these
    # it answers: the administrator (for admin.*), an officer, a visitor.
    walked = set(w.endpoints) | set(SKIPPED)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.arguments or rule.endpoint in walked:
            continue
        clients = [admin] if rule.endpoint.startswith("admin.") else [officer, app.test_client()]
        for client in clients:
            response = client.get(rule.rule)
            if response.status_code == 200:
                w.read(f"{rule.rule} (found in the URL map)", response, rule.rule)
                break

    # Error pages.
    w.get("not found", discloser, "/no-such-page", status=404)
    w.get("case not found", officer, "/console/cases/PD-NOSUCH-CASE", status=404)
    w.read("not allowed", discloser.get("/status/reply"), "/status/reply", method="POST", status=405)
    w.read("form expired", app.test_client().post("/console/login", data={}), "/console/login", method="POST",
           status=400)
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
    assert len(labels) == 7
    report = _report(walk, labels)
    assert not report, "\n" + report


@pytest.mark.parametrize("html, problem", [
    ('<form><label for="a">A</label></form><form><input id="a"></form>', "another form"),
    ('<label for="b">B</label><p id="b">', "names no field"),
    ('<p id="c"></p><p id="c"></p>', "used 2 times"),
    ("<p>Recorded by Reader(id=1, name='Ana')</p>", "reads like Python"),
    ("<p>by_operator: False</p>", "internal key"),
    ("<p><code>portal setting set security_contact</code></p>", None),
    ("<td>pending</td>", "as it is stored"),
    ("<p>Received 2026-12-07</p>", "not as people write it"),
    ("<p>report.pdf (40960 bytes)</p>", "not as people write it"),
    ('<p>Received <time datetime="2026-12-07">7 December 2026</time>, 40 KB</p>', None),
])
def test_the_checks_themselves(html, problem):
    found = problems_of(html)
    assert any(problem in p for p in found) if problem else found == []


# The words of issue 25, each read off the walked pages.

def _text(walk: Walk, label: str) -> str:
    page = PageAudit()
    page.feed(walk.pages[label][1])
    return " ".join(" ".join(page.shown).split())


def test_dates_as_people_write_them_with_the_day_kept_for_machines(walk):
    record = walk.pages["record"][1]
    days = re.findall(r'<time datetime="([0-9-]{10})">([^<]+)</time>', record)
    assert len(days) >= 5
    from portal.core.words import date_words
    assert all(words == date_words(day) and not words.startswith("0") for day, words in days)
    assert re.search(r'<time datetime="[0-9-]{10}T[0-9:]{5}">[0-9]{1,2} [A-Z][a-z]+ [0-9]{4}, [0-9:]{5}</time>',
                     walk.pages["/console/audit (admin)"][1])  # an entry's time: "7 December 2026, 15:08"
    inbox = walk.pages["inbox (worked)"][1]
    assert re.search(r'data-due="([0-9-]{10})"', inbox)  # CONTRACT: the row's day stays YYYY-MM-DD
    assert re.search(r'<span class="due"><time datetime="[0-9-]{10}">[0-9]{1,2} [A-Z][a-z]+ [0-9]{4}</time>', inbox)


def test_sizes_in_kb_and_mb():
    from portal.core.words import file_size
    assert [file_size(n) for n in (1, 999, 4009, 999_499, 999_500, 3_100_000, 2 * 1024**3)] == [
        "1 byte", "999 bytes", "4 KB", "999 KB", "1.0 MB", "3.1 MB", "2.1 GB"]


def test_a_limit_is_rounded_down_so_a_file_of_the_size_stated_is_never_refused():
    from portal.core.words import limit_size
    assert [limit_size(n) for n in (999, 1999, 1_999_999, 2_150_000_000, 2 * 1024**3, 4_000_000_000)] == [
        "999 bytes", "1 KB", "1.9 MB", "2.1 GB", "2.1 GB", "4 GB"]


def test_the_upload_limit_and_a_sent_file_in_kb_or_mb(walk):
    assert "Up to 2.1 GB each." in _text(walk, "disclose")
    # The README gives the operator the same limit, in the same unit (it said "2 GiB": issue 25).
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    stated = re.search(r"`PORTAL_MAX_ATTACHMENT_BYTES` \(default ([0-9,]+) bytes,\s+which the disclosure form"
                       r"\s+states as ([0-9.]+ GB)", readme)
    assert int(stated.group(1).replace(",", "")) == 2 * 1024**3
    assert f"Up to {stated.group(2)} each." in _text(walk, "disclose")
    assert "invoices.pdf (4 KB)" in _text(walk, "status (open)")


def test_one_example_of_a_case_reference(walk):
    from portal.intake.cases import EXAMPLE_REF
    assert re.fullmatch(r"PD-[0-9A-Z]{8}", EXAMPLE_REF)
    assert f"such as {EXAMPLE_REF}." in _text(walk, "/console/retention/ (officer)")
    assert f"For example: {EXAMPLE_REF}" in _text(walk, "/console/access/ (officer)")
    assert f'placeholder="{EXAMPLE_REF}"' in walk.pages["inbox"][1]
    for label, (_, html) in walk.pages.items():
        # A reference starts a word: a recovery code's group ending in "PD" (ABPD-UCTQ-...) is none (1 run in ~30).
        examples = set(re.findall(r"(?<![0-9A-Z])PD-[0-9A-Z…-]*", _text(walk, label))) - {EXAMPLE_REF}
        real = {"PD-" + ref.removeprefix("PD-") for ref in re.findall(r"PD-[0-9A-Z]{8}", html)}
        assert examples <= real | {"PD-NOSUCH-CASE"}, (label, examples)


def test_operator_changes_read_once_and_plainly(walk):
    text = _text(walk, "/console/memberships (officer)").replace(" )", ")")
    assert "added (by the server's operator, at the command line)" in text
    assert "(command line)" not in text and "added at the command line (by" not in text
    assert "Old Timer <old@agency.govt.nz> added (by the server's operator, at the command line)" in text


def test_a_referral_names_the_authority_inside_the_sentence(walk):
    assert "Referred to an Ombudsman. It is theirs to look at." in _text(walk, "case (referred)")
    status = _text(walk, "status (referred)")
    # (intake/status.html's own "referred your disclosure to {{ authority }}" is the rebuilt page's: the
    # filter in_sentence is for it.)
    assert "Reason: Referred to an Ombudsman. It is theirs to look at." in status
    assert "ombudsman.parliament.nz" in status  # the directory's contact, found from the reason
    assert "to an Ombudsman by Ana Officer" in _text(walk, "record (referred)")


def test_each_status_once_where_the_checklist_says_what_records_a_step(walk):
    case = _text(walk, "case")
    assert "Closed, Closed" not in case
    assert "Recorded by the status: Being investigated, Addressed, Referred, No further action" in case
    assert "Being investigated, Addressed, No further action or Closed, each given with a reason" in case


def test_the_audit_log_in_words(walk):
    text = _text(walk, "/console/audit (admin)")
    assert "Enrolment link made (by the server's operator, for 1 channel)" in text
    assert "role:" not in text and "admin)" not in text  # the account's role in words, not its key
    assert "as an administrator" in text and "as an officer" in text
    assert "status: acknowledged" in _text(walk, "/console/audit (officer)")


def test_administrators_are_sent_back_to_administration_never_to_an_inbox(walk):
    assert "Back to administration" in _text(walk, "/console/account (admin)")
    assert "Back to the inbox" not in _text(walk, "/console/account (admin)")
    assert "Back to the inbox" in _text(walk, "/console/account (officer)")


def test_the_oral_hand_over_sheet_names_the_sites_words_and_its_address(walk):
    text = _text(walk, "oral receipt")
    assert '"Check a disclosure"' in text and "Check status" not in text
    assert re.search(r'id="status-address">http://localhost/status<', walk.pages["oral receipt"][1])


def test_one_case_matches_and_cases_match(walk):
    assert "1 case matches." in _text(walk, "inbox (one reference)")


def test_statistics_mark_the_periods_not_over_yet(walk):
    html = walk.pages["/console/statistics (officer)"][1]
    items = re.findall(r"<li( data-unfinished)?><a [^>]*>([^<]+)</a>", html)
    assert items[0][0] and "quarter" in items[0][1]  # the current quarter
    assert not items[1][0]  # the last one, over
    assert sum(1 for unfinished, _ in items if unfinished) == 2  # this quarter, this financial year
    assert "not over yet: counted once it ends on" in _text(walk, "/console/statistics (officer)")


def test_the_queue_counts_working_days(walk):
    text = _text(walk, "inbox (worked)")
    assert re.search(r"\b20 working days left\b", text)
    assert not re.search(r"\b[0-9]+ days? left\b", text)


def test_an_officer_not_yet_on_the_signed_roster_is_told_they_wait_to_be_confirmed(walk):
    assert "You are waiting to be confirmed" in _text(walk, "inbox (waiting to be confirmed)")
    assert "You are waiting to be confirmed" not in _text(walk, "inbox (worked)")




def test_the_date_filter_keeps_what_the_contract_names_in_its_attributes():
    from tests.support.workflow import due_date, expected_by
    from portal.core.words import nz_date
    assert due_date(str(nz_date("2026-03-30", "due-date", data_deadline="respond"))) == ("respond", "2026-03-30")
    assert expected_by(str(nz_date("2026-04-07", "expected-by"))) == "2026-04-07"
    assert str(nz_date("2026-04-07")) == '<time datetime="2026-04-07">7 April 2026</time>'
    assert nz_date(None) == "" and nz_date("") == ""


def test_times_read_on_the_24_hour_clock_on_every_page(walk):
    for label, (_, html) in walk.pages.items():
        assert not re.search(r"\b[0-9]{1,2}:[0-9]{2} ?[ap]m\b", html), label
    until = re.search(r'The link works until <time datetime="[0-9T:+-]+">([^<]+)</time>',
                      walk.pages["invitation made"][1])
    assert until and re.fullmatch(r"[0-9]{1,2} [A-Z][a-z]+ [0-9]{4}, [0-9]{2}:[0-9]{2}", until.group(1))


def test_a_new_officer_reads_first_that_they_wait_to_be_confirmed(walk):
    page = walk.pages["inbox (waiting to be confirmed)"][1]
    assert 0 < page.index('id="waiting-to-be-confirmed"') < page.index('id="needs-you"')
    assert 'id="waiting-to-be-confirmed"' not in walk.pages["inbox"][1]


def test_a_case_reference_in_a_heading_never_breaks_at_its_hyphen(walk):
    for label in ("case", "record", "earlier messages (officer)"):
        heading = re.search(r"<h1>(.*?)</h1>", walk.pages[label][1]).group(1)
        assert re.search(r'<span class="case-ref">PD-[0-9A-Z]+</span>$', heading), (label, heading)
    css = walk.app.test_client().get("/static/portal.css").text
    assert ".case-ref { white-space: nowrap; }" in css
