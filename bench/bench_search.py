"""Searching the inbox by words at 10,000 cases (issue 25), against opening one case page, in one run.

A fast-KDF installation of BENCH_SEARCH_CASES cases (10,000 by default) is built with bench_queue's builder
(the portal's own intake and casework functions). Through Flask's test client, as the signed-in officer:
- the baseline: opening one case page (median of ROUNDS);
- the officer's very first search with no key copy yet, once (as in a worker process other than the one
  that signed them in): it opens every case's sealed key (one X25519 each, on two threads) and keeps a
  copy of each key under the officer's own key (case_keys.key_copy, migration 39);
- the officer's first sign-in with every key copy missing (the sign-in answers; a thread of its own writes
  the copies) and their first search, sent the moment the sign-in answered: it waits for that thread;
- a session's first search (median of FIRST_ROUNDS; the session's index is dropped before each, as a new
  session would start): it opens every case once, from those key copies, and keeps the session's encrypted
  index;
- a later search of the same session, which decrypts the index only (median of ROUNDS).
Each is printed in milliseconds and as a ratio to the case page, with the load average of the machine
(shared: a loaded machine slows every figure, the baseline too), and the process's CPU time of the first
searches ever (both threads). The goal is the issue's: a search of 10,000 cases within 1 s, the first
search of a session and the officer's first search ever included.
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_queue  # noqa: E402
from portal.casework import search  # noqa: E402
from portal.core.context import open_context  # noqa: E402
from tests.support import csrf_token  # noqa: E402

CASES = int(os.environ.get("BENCH_SEARCH_CASES", 10_000))
ROUNDS = int(os.environ.get("BENCH_SEARCH_ROUNDS", 15))
FIRST_ROUNDS = int(os.environ.get("BENCH_SEARCH_FIRST_ROUNDS", 3))
OUT = ROOT / "bench" / "out"


def _median(call, rounds: int, before=None) -> float:
    times = []
    for _ in range(rounds):
        if before:
            before()
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    scratch = OUT / "search-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        started = time.perf_counter()
        data_dir = scratch / "data"
        officer = bench_queue.build(data_dir, CASES)
        print(f"   built {CASES} cases in {time.perf_counter() - started:.0f} s", flush=True)
        client, views = bench_queue._client_and_views(data_dir, officer, CASES)
        token = csrf_token(client.get("/console/").text)
        [ref] = open_context(data_dir).db.execute("SELECT ref FROM cases LIMIT 1").fetchone()

        def case_page():
            assert client.get(f"/console/cases/{ref}").status_code == 200

        found = {}

        def searched(words: str):
            def call():
                response = client.post("/console/search", data={"words": words, "csrf_token": token})
                assert response.status_code == 200, response.text
                found[words] = response.text.count('<tr role="row" data-ref=')
            return call

        case_page()
        baseline = _median(case_page, ROUNDS)
        load_before = os.getloadavg()[0]
        ctx = open_context(data_dir)
        db = ctx.db
        cpu = {}

        def no_copies():
            assert search.PREPARING.wait(ctx, officer_id, 60)  # the first sign-in's thread is done
            db.execute("UPDATE case_keys SET key_copy = NULL")
            search.INDEXES._by_session.clear()

        def timed_cpu(name, call):
            def run():
                started = time.process_time()
                call()
                cpu[name] = time.process_time() - started
            return run

        [officer_id] = db.execute("SELECT id FROM accounts WHERE email = ?", [officer["email"]]).fetchone()
        very_first = _median(timed_cpu("ever", searched("matter 4321")), 1, before=no_copies)

        def signed_in_again():
            """A new sign-in with every key copy missing: (client, seconds it took to answer)."""
            no_copies()
            started = time.perf_counter()
            again, _ = bench_queue._client_and_views(data_dir, officer, CASES)  # signs in
            return again, time.perf_counter() - started

        def search_by(client):
            token = csrf_token(client.get("/console/").text)
            started = time.perf_counter()
            response = client.post("/console/search", data={"words": "matter 4321", "csrf_token": token})
            assert response.status_code == 200 and response.text.count('<tr role="row" data-ref=') == 1
            return time.perf_counter() - started

        again, sign_in_seconds = signed_in_again()
        started = time.perf_counter()
        assert search.PREPARING.wait(ctx, officer_id, 60)
        thread_seconds = time.perf_counter() - started
        first_after_thread = search_by(again)
        again, _ = signed_in_again()
        signed_in_at = time.perf_counter()
        search_by(again)
        after_sign_in = time.perf_counter() - signed_in_at
        first = _median(searched("matter 4321"), FIRST_ROUNDS, before=search.INDEXES._by_session.clear)
        later = _median(searched("matter 4321"), ROUNDS)
        wide = _median(searched("details"), ROUNDS)
        load_after = os.getloadavg()[0]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"inbox search at {CASES} cases against opening one case page (medians; goal: a search of {CASES} "
          f"cases within 1 s, the first search of a session included); load average {load_before:.1f} "
          f"before, {load_after:.1f} after, on {os.cpu_count()} cores")
    print(f"  case page (baseline)           {baseline * 1000:8.1f} ms")
    print(f"  sign-in with {CASES} key copies missing {sign_in_seconds * 1000:8.1f} ms (the whole sign-in, "
          f"fast KDF; then its thread writes them in {thread_seconds * 1000:.0f} ms)")
    print(f"  officer's first search ever, once the thread is done {first_after_thread * 1000:8.1f} ms: ratio "
          f"{first_after_thread / baseline:6.1f}")
    print(f"  officer's first search ever, sent as sign-in answered {after_sign_in * 1000:8.1f} ms: ratio "
          f"{after_sign_in / baseline:6.1f} (inbox page and search: it waits for the thread)")
    print(f"  (the first search ever with no copies used {cpu['ever'] * 1000:.0f} ms of CPU, both threads)")
    for name, seconds, words in (("first search ever, no copies", very_first, "matter 4321"),
                                 ("first search of a session", first, "matter 4321"),
                                 ("later search, 1 found", later, "matter 4321"),
                                 ("later search, all found", wide, "details")):
        print(f"  {name:30} {seconds * 1000:8.1f} ms: ratio {seconds / baseline:6.1f} "
              f"({found[words]} rows shown)")
    within = max(first, later, wide, first_after_thread) <= 1
    print(f"a session's first and later searches, and the officer's first once sign-in's copies are written, "
          f"{'within' if within else 'ABOVE'} the goal of 1 s; the first search ever with no copies "
          f"{'within' if very_first <= 1 else 'above'} it, one sent as sign-in answers "
          f"{'within' if after_sign_in <= 1 else 'above'} it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
