"""The console as a work queue (issue 14), over HTTP: unseen markers per reader, every filter and order, search
by reference, overdue and due-soon markers, keyset pages; and the queries behind it, each one index range."""
from __future__ import annotations

import re

import pytest

import crypto
from portal.casework import queue, queue_filters
from portal.core.context import open_context
from tests.conftest import MARKER, add_account
from tests.support import csrf_token, post_multipart
from tests.support.console import sign_in
from tests.support.audit import case_refs
from tests.support.workflow import disclose_to, open_status, post, today  # noqa: F401  (today is a fixture)

ROW = re.compile(r'<tr role="row" data-ref="([^"]+)" data-due="([^"]*)" data-unseen="(true|false)"'
                 r'(?: data-urgency="([a-z]+)")?>(.*?)</tr>', re.S)


def rows(html: str) -> list[dict]:
    return [{"ref": m[0], "due": m[1], "unseen": m[2] == "true", "urgency": m[3] or "", "html": m[4]}
            for m in ROW.findall(html)]


def refs(client, **query) -> list[str]:
    response = client.get("/console/", query_string=query)
    assert response.status_code == 200, response.text
    return [r["ref"] for r in rows(response.text)]


def ref_of(installation, summary: str) -> str:
    """The reference of the case whose discloser typed `summary` (disclose_case noted it)."""
    return _summaries[summary]


_summaries: dict[str, str] = {}  # summary -> the reference of the case made with it


def disclose_case(client, summary: str, **fields) -> str:
    data_dir = client.application.config["PORTAL_SETTINGS"].data_dir
    known = case_refs(data_dir)
    receipt = disclose_to(client, summary=summary, **fields)
    [_summaries[summary]] = case_refs(data_dir) - known
    return receipt


@pytest.fixture(autouse=True)
def _fresh_summaries():
    _summaries.clear()


@pytest.fixture
def cat(installation):
    """A second reader of the first channel."""
    return add_account(installation.data_dir, "officer", "cat@agency.govt.nz", "Cat Second", [installation.channel])


def signed_in(app, person):
    client = app.test_client()
    assert sign_in(client, person).status_code == 303
    return client


def discloser_replies(app, receipt: str, text: str) -> None:
    discloser = app.test_client()
    page = open_status(discloser, receipt)
    response = post_multipart(discloser, "/status/reply", [("csrf_token", csrf_token(page)), ("message", text)])
    assert response.status_code == 303


def test_a_discloser_message_on_an_older_case_brings_it_forward_unseen_for_each_reader_until_opened(
        app, installation, cat, today):
    today.set("2026-03-02")
    older = disclose_case(app.test_client(), "Older matter")
    today.set("2026-03-03")
    disclose_case(app.test_client(), "Newer matter")
    older_ref, newer_ref = ref_of(installation, "Older matter"), ref_of(installation, "Newer matter")
    ana, catc = signed_in(app, installation.officer), signed_in(app, cat)
    # A new disclosure is unseen for every reader; opening it clears it for that reader only.
    for reader in (ana, catc):
        assert [r["unseen"] for r in rows(reader.get("/console/").text)] == [True, True]
        for ref in (older_ref, newer_ref):
            assert reader.get(f"/console/cases/{ref}").status_code == 200
        page = reader.get("/console/").text
        assert [r["unseen"] for r in rows(page)] == [False, False]
        assert 'data-count="unseen"><span class="marker unseen" aria-hidden="true">●</span> 0 with' in page
    # Seen cases in deadline order: the older one is due first, then the newer.
    assert refs(ana) == [older_ref, newer_ref]
    today.set("2026-03-04")
    discloser_replies(app, older, "Something more: " + MARKER)
    # The activity order brings the older case to the top; the default order marks it unseen for both readers.
    for reader in (ana, catc):
        assert refs(reader, sort="activity") == [older_ref, newer_ref]
        [first, second] = rows(reader.get("/console/").text)
        assert first["ref"] == older_ref and first["unseen"] and not second["unseen"]
        assert "New message from the discloser" in first["html"]
        assert MARKER not in reader.get("/console/").text  # the message itself is not shown in the queue
    assert ana.get(f"/console/cases/{older_ref}").status_code == 200
    assert [r["unseen"] for r in rows(ana.get("/console/").text)] == [False, False]
    assert rows(catc.get("/console/").text)[0] == {**rows(catc.get("/console/").text)[0], "ref": older_ref,
                                                   "unseen": True}
    # A newer unseen case comes before an older seen one whose deadline is nearer.
    assert refs(catc)[0] == older_ref
    assert catc.get(f"/console/cases/{older_ref}").status_code == 200
    today.set("2026-03-05")
    disclose_case(app.test_client(), "Newest matter")
    assert refs(catc)[0] == ref_of(installation, "Newest matter")


def test_a_referral_by_one_reader_and_a_change_of_readers_mark_the_case_unseen_for_the_others(app, installation, cat):
    disclose_case(app.test_client(), "A matter")
    ref = ref_of(installation, "A matter")
    ana, catc = signed_in(app, installation.officer), signed_in(app, cat)
    for reader in (ana, catc):
        reader.get(f"/console/cases/{ref}")
    page = ana.get(f"/console/cases/{ref}").text
    oag = re.search(r'<option value="([0-9]+)">Controller and Auditor-General</option>', page).group(1)
    assert post(ana, f"/console/cases/{ref}/referral", authority=oag, concerns="general", consultation="consulted",
                reason="Public funds.").status_code == 303
    assert not rows(ana.get("/console/").text)[0]["unseen"]
    [row] = rows(catc.get("/console/").text)
    assert row["unseen"] and "Referred by another officer" in row["html"]
    catc.get(f"/console/cases/{ref}")
    # A new reader of the case (a grant, as issue 16 makes them): new to them, and the others are told.
    dan = add_account(installation.data_dir, "officer", "dan@agency.govt.nz", "Dan Third", [installation.other_channel])
    ctx = open_context(installation.data_dir)
    dan_id, public_key = ctx.db.execute("SELECT id, public_key FROM accounts WHERE email = ?", [dan.email]).fetchone()
    case_id = ctx.db.execute("SELECT id FROM cases WHERE ref = ?", [ref]).fetchone()[0]
    ctx.db.execute("INSERT INTO case_keys (case_id, recipient, account_id, sealed_key) VALUES (?, ?, ?, ?)",
                   [case_id, f"account:{dan_id}", dan_id, crypto.seal_to(public_key, b"k" * 32)])
    for reader in (ana, catc):
        [row] = rows(reader.get("/console/").text)
        assert row["unseen"] and "Its readers changed" in row["html"]
    danc = signed_in(app, dan)
    [row] = rows(danc.get("/console/").text)
    assert row["ref"] == ref and row["unseen"] and "New to you" in row["html"]
    ana.get(f"/console/cases/{ref}")
    ctx.db.execute("DELETE FROM case_keys WHERE case_id = ? AND account_id = ?", [case_id, dan_id])
    assert rows(ana.get("/console/").text)[0]["unseen"]
    assert rows(danc.get("/console/").text) == []


@pytest.fixture
def spread(app, installation, cat, today):
    """Five cases over two channels, categories, statuses, assignees and deadlines; Ana reads four of them."""
    today.set("2026-02-02")
    disclose_case(app.test_client(), "Oldest, overdue", category="offence")
    today.set("2026-02-20")
    disclose_case(app.test_client(), "Due soon", category="public_funds")
    today.set("2026-03-02")
    disclose_case(app.test_client(), "Assigned to Cat", category="public_funds")
    disclose_case(app.test_client(), "Procurement's", channel=installation.other_channel, category="offence")
    today.set("2026-03-03")
    disclose_case(app.test_client(), "Closed one", category="not_sure")
    ana = signed_in(app, installation.officer)
    named = {s: ref_of(installation, s) for s in _summaries}
    post(ana, f"/console/cases/{named['Closed one']}/status", status="closed", reason="Dealt with.")
    # Closing with a reason informs the discloser and does no other step: each is recorded, so nothing is due.
    for step in ("acknowledge", "consider", "check", "deal"):
        post(ana, f"/console/cases/{named['Closed one']}/steps", step=step)
    ctx = open_context(installation.data_dir)
    cat_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [cat.email]).fetchone()[0]
    post(ana, f"/console/cases/{named['Assigned to Cat']}/assign", officer=str(cat_id))
    post(ana, f"/console/cases/{named['Due soon']}/assign", officer="")
    post(ana, f"/console/cases/{named['Oldest, overdue']}/status", status="assessing")
    today.set("2026-03-13")  # 20 working days after 2 February (Waitangi Day off) is 3 March: overdue; after 20 February: 20 March, soon
    return ana, named, cat_id


def test_each_filter(spread, installation):
    ana, named, cat_id = spread
    mine = {named[s] for s in ("Oldest, overdue", "Due soon", "Assigned to Cat", "Closed one")}
    assert set(refs(ana)) == mine
    assert refs(ana, status="assessing") == [named["Oldest, overdue"]]
    assert refs(ana, status="closed") == [named["Closed one"]]
    assert set(refs(ana, channel=installation.channel)) == mine
    assert refs(ana, channel=installation.other_channel) == []
    assert set(refs(ana, category="public_funds")) == {named["Due soon"], named["Assigned to Cat"]}
    assert refs(ana, category="offence") == [named["Oldest, overdue"]]
    assert refs(ana, assignee=str(cat_id)) == [named["Assigned to Cat"]]
    assert refs(ana, assignee="me") == []
    assert set(refs(ana, assignee="unassigned")) == mine - {named["Assigned to Cat"]}
    assert refs(ana, due="overdue") == [named["Oldest, overdue"]]
    assert refs(ana, due="soon") == [named["Due soon"]]
    # Filters combine; and the state of the view lives in the URL of the form (GET, no script).
    assert refs(ana, category="public_funds", assignee="unassigned") == [named["Due soon"]]
    page = ana.get("/console/", query_string={"status": "closed"}).text
    assert re.search(r'<form method="get" action="/console/" class="queue-filters"', page)
    assert '<option value="closed" selected>' in page and "<script" not in page
    assert "1 case matches." in page


def test_each_order(spread, app, cat):
    ana, n, _ = spread
    # Attention (the default): what Cat has not seen first, each part by the nearest deadline.
    catc = signed_in(app, cat)
    for summary in ("Due soon", "Closed one"):
        catc.get(f"/console/cases/{n[summary]}")
    assert refs(catc) == [n["Oldest, overdue"], n["Assigned to Cat"], n["Due soon"], n["Closed one"]]
    assert refs(catc, sort="deadline") == [n["Oldest, overdue"], n["Due soon"], n["Assigned to Cat"], n["Closed one"]]
    assert refs(ana, sort="received") == [n["Closed one"], n["Assigned to Cat"], n["Due soon"], n["Oldest, overdue"]]
    # Activity: the status changes of 3 March; the assignment is not activity; the same day by reference.
    latest = sorted([n["Oldest, overdue"], n["Closed one"]], reverse=True)
    assert refs(ana, sort="activity") == latest + [n["Assigned to Cat"], n["Due soon"]]
    row = {r["ref"]: r for r in rows(ana.get("/console/?sort=activity").text)}[n["Oldest, overdue"]]
    assert "2026-02-02" in row["html"] and 'last activity <time datetime="2026-03-03">3 March 2026</time>' in row["html"]


def test_overdue_and_due_soon_stand_out_in_words(spread):
    ana, named, _ = spread
    by_ref = {r["ref"]: r for r in rows(ana.get("/console/").text)}
    overdue, soon = by_ref[named["Oldest, overdue"]], by_ref[named["Due soon"]]
    assert overdue["urgency"] == "overdue" and ">Overdue</strong>" in overdue["html"]
    assert overdue["due"] == "2026-03-03" and "overdue by 8 working days" in overdue["html"]
    assert soon["urgency"] == "soon" and ">Due soon</strong>" in soon["html"] and soon["due"] == "2026-03-20"
    assert "5 working days left" in soon["html"]
    closed = by_ref[named["Closed one"]]
    assert closed["urgency"] == "" and closed["due"] == "" and "Nothing due" in closed["html"]
    page = ana.get("/console/").text
    assert re.search(r'data-count="overdue">.*?Overdue</span> 1<', page)
    assert re.search(r'data-count="soon">.*?Due soon</span> 1<', page)


def test_rows_say_what_is_needed_with_the_title_decrypted_for_the_reader_only(spread, app, installation):
    ana, named, _ = spread
    row = {r["ref"]: r for r in rows(ana.get("/console/").text)}[named["Assigned to Cat"]]
    for words in ("Assigned to Cat", "Cat Second", "Public funds or resources",
                  installation.channel, "Acknowledged" if False else "New: to acknowledge", "2026-03-02"):
        assert words in row["html"], words
    ben = signed_in(app, installation.other_officer)
    assert refs(ben) == [named["Procurement's"]]
    assert "Assigned to Cat" not in ben.get("/console/").text


def test_search_by_reference_answers_another_channels_case_like_a_missing_one(spread, installation):
    ana, named, _ = spread
    mine = named["Due soon"]
    assert refs(ana, q=mine) == [mine]
    assert refs(ana, q=" " + mine.lower().removeprefix("pd-") + " ") == [mine]
    theirs, missing = named["Procurement's"], "PD-ZZZZZZZZ"
    answers = [ana.get("/console/", query_string={"q": ref}) for ref in (theirs, missing)]
    assert [a.status_code for a in answers] == [200, 200]
    # The same page but for the reference typed, and the form's token (its timestamp may tick over
    # between the two requests).
    same = [re.sub(r'<input[^>]*name="csrf_token"[^>]*>', "", a.text) for a in answers]
    assert same[0].replace(theirs, "REF") == same[1].replace(missing, "REF")
    assert "No case you can read has that reference." in answers[0].text


@pytest.mark.parametrize("query", [{"status": "bogus"}, {"assignee": "٣"}, {"assignee": "-1"}, {"due": "yesterday"},
                                   {"sort": "random"}, {"after": "1_9999-99-99_PD-X' OR 1=1"}, {"q": "x" * 500},
                                   {"category": "<script>"}, {"channel": "No such channel"},
                                   {"sort": "activity", "after": "2026-03-02_PD-AAAAAAAA"}])
def test_odd_filters_answer_plainly_never_500(spread, query):
    ana, named, _ = spread
    response = ana.get("/console/", query_string=query)
    assert response.status_code == 200
    assert "<script" not in response.text
    shown = refs(ana, **query)
    if "after" in query or query.get("sort") == "random":
        assert len(shown) <= 4  # a mangled cursor starts at the first page; the order falls back to the default
    elif "channel" in query:
        assert shown == []  # a channel that does not exist matches nothing
    else:
        assert "There is a problem with this view" in response.text and len(shown) == 4 or query.get("q")


def test_listing_records_nothing_in_the_audit_log_and_decrypts_only_the_page_shown(app, installation, monkeypatch):
    for i in range(queue.PAGE_SIZE + 5):
        disclose_case(app.test_client(), f"Case number {i}")
    ana = signed_in(app, installation.officer)
    ctx = open_context(installation.data_dir)
    before = ctx.db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
    opened = []
    # Each case key the page opens: from the officer's key copy (signing in wrote them) or its sealed copy.
    for name in ("open_sealed", "open_copy"):
        real = getattr(crypto, name)
        monkeypatch.setattr(crypto, name, lambda *a, _real=real: opened.append(1) or _real(*a))
    many = crypto.open_sealed_many
    monkeypatch.setattr(crypto, "open_sealed_many", lambda key, boxes, *a: opened.extend([1] * len(boxes))
                        or many(key, boxes, *a))
    first = ana.get("/console/").text
    assert len(opened) == queue.PAGE_SIZE and len(rows(first)) == queue.PAGE_SIZE
    [next_url] = re.findall(r'href="([^"]*after=[^"]*)" rel="next"', first)
    opened.clear()
    second = ana.get(next_url.replace("&amp;", "&")).text
    assert len(opened) == len(rows(second)) == 5
    for query in ({"status": "received"}, {"due": "soon"}, {"q": "PD-ZZZZZZZZ"}, {"sort": "activity"}):
        ana.get("/console/", query_string=query)
    assert ctx.db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] == before
    shown = {r["ref"] for r in rows(first)} | {r["ref"] for r in rows(second)}
    assert len(shown) == queue.PAGE_SIZE + 5


FILTERS = [{}, {"status": "received"}, {"channel": "Audit and Risk"}, {"category": "offence"}, {"assignee": "me"},
           {"assignee": "unassigned"}, {"assignee": "7"}, {"due": "overdue"}, {"due": "soon"}, {"q": "PD-AAAAAAAA"},
           {"status": "closed", "category": "offence"}]


@pytest.mark.sqlite_only(reason="reads SQLite's EXPLAIN QUERY PLAN; PostgreSQL's plans are"
                                " tests/store/test_query_plans.py::test_no_postgresql_plan_reads_a_table"
                                "_that_grows_with_cases_whole")
@pytest.mark.parametrize("sort", list(queue_filters.SORTS))
@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize("after", [False, True])
def test_every_filter_and_order_is_one_index_range(installation, sort, filters, after):
    """No statement of the queue scans the table or sorts it whole: each walks an index from the reader's
    rows, named by queue.index_for. (A due-day filter under another order sorts the cases with a due day, which
    are the open ones; a reference matches at most one row.)"""
    ctx = open_context(installation.data_dir)
    cursor = {"attention": "0_2026-03-02_PD-AAAAAAAA"}.get(sort, "2026-03-02_PD-AAAAAAAA") if after else ""
    wanted, problems = queue_filters.parse_filter({**filters, "sort": sort, "after": cursor})
    assert not problems and wanted.after == cursor
    plans: list[str] = []

    class Recorder:
        def execute(self, sql, params=()):
            plans.extend(row[3] for row in ctx.db.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall())
            return ctx.db.execute(sql, params)

    clauses, params = queue._conditions(ctx, 1, wanted, "2026-03-12", "2026-03-19")
    queue._page_rows(Recorder(), clauses, params, wanted, queue.PAGE_SIZE + 1)
    queue._capped_count(Recorder(), queue.index_for(wanted, "deadline" if wanted.due else "attention"), clauses, params)
    plans = [p for p in plans if "case_queue" in p or "TEMP B-TREE" in p]
    assert plans
    for plan in plans:
        assert "TEMP B-TREE" in plan or ("USING" in plan and "INDEX" in plan and "(account_id=?" in plan), \
            (filters, sort, plan)
        if "TEMP B-TREE" in plan:
            # A reference is unique: at most one row to sort. Due days: the open cases only.
            assert filters.get("q") or (filters.get("due") and sort in ("activity", "received")), (filters, sort, plans)
    assert not any(p.startswith("SCAN case_queue") and "INDEX" not in p for p in plans)


@pytest.mark.postgres_only(reason="PostgreSQL's planner; SQLite's plans are the test above")
@pytest.mark.parametrize("sort", list(queue_filters.SORTS))
@pytest.mark.parametrize("filters", FILTERS)
def test_every_filter_and_order_walks_an_index_on_postgresql(installation, sort, filters):
    """The same statements on PostgreSQL, planned with sequential scans and sorts priced out
    (enable_seqscan, enable_sort off): each reads case_queue through an index from the reader's
    rows and takes its order from it, sorting only where SQLite's plan does (a reference, due
    days under another order)."""
    from portal.store.dialect import postgres_query

    ctx = open_context(installation.data_dir)
    ctx.db.raw.execute("SET enable_seqscan = off")
    ctx.db.raw.execute("SET enable_sort = off")
    plans: list[list[str]] = []

    class Recorder:
        def execute(self, sql, params=()):
            [translated] = postgres_query(sql)
            plans.append([line for (line,) in ctx.db.raw.execute("EXPLAIN " + translated, tuple(params))])
            return ctx.db.execute(sql, params)

    for after in (False, True):  # the first page, and a later one
        cursor = {"attention": "0_2026-03-02_PD-AAAAAAAA"}.get(sort, "2026-03-02_PD-AAAAAAAA") if after else ""
        wanted, problems = queue_filters.parse_filter({**filters, "sort": sort, "after": cursor})
        assert not problems
        clauses, params = queue._conditions(ctx, 1, wanted, "2026-03-12", "2026-03-19")
        queue._page_rows(Recorder(), clauses, params, wanted, queue.PAGE_SIZE + 1)
        queue._capped_count(Recorder(), queue.index_for(wanted, "deadline" if wanted.due else "attention"),
                            clauses, params)
    assert len(plans) >= 4
    for plan in plans:
        text = "\n".join(plan)
        assert "Seq Scan on case_queue" not in text, (filters, sort, text)
        if "case_queue" in text:
            assert "Index" in text and "account_id" in text, (filters, sort, text)
        if re.search(r"^\s*(->\s*)?Sort\b", text, re.M):
            assert filters.get("q") or (filters.get("due") and sort in ("activity", "received")), (filters, sort, text)
