"""The browser verifies a channel's signed roster (static/seal/crypto/roster.js) exactly as
crypto.verify_chain does: every chain that tests/crypto/test_roster.py builds (every kind, every
rule, every refusal) is replayed through the browser's code, which must reach the same verdict,
the same valid prefix (readers, recovery key, root, length, head) and the same bad statement."""
from __future__ import annotations

import inspect

import pytest

from crypto import SignedStatement, key_fingerprint, verify_chain
import tests.crypto.test_roster as test_roster
from tests.support.node_crypto import run_js


def _well_typed(statements) -> bool:
    return isinstance(statements, list) and all(
        isinstance(s, SignedStatement) and isinstance(s.body, bytes)
        and isinstance(s.signatures, tuple)
        and all(isinstance(p, tuple) and len(p) == 2 and all(isinstance(x, bytes) for x in p)
                for p in s.signatures)
        for s in statements)


def _recorded_chains(monkeypatch) -> list[tuple]:
    """(pinned, channel, statements, Python's result) for every verify_chain call the roster tests
    make, each test run as pytest would (parametrized ones with every parameter)."""
    seen = []

    def recording(pinned, channel, statements):
        result = verify_chain(pinned, channel, statements)
        if isinstance(pinned, bytes) and isinstance(channel, int) and _well_typed(statements):
            seen.append((pinned, channel, list(statements), result))
        return result

    monkeypatch.setattr(test_roster, "verify_chain", recording)
    for name, test in inspect.getmembers(test_roster, inspect.isfunction):
        if not name.startswith("test_"):
            continue
        params = list(inspect.signature(test).parameters)
        marks = [m for m in getattr(test, "pytestmark", []) if m.name == "parametrize"]
        runs = [{}]
        for mark in marks:
            names = [n.strip() for n in mark.args[0].split(",")]
            values = [v if len(names) > 1 else (v,) for v in mark.args[1]]
            runs = [dict(r, **dict(zip(names, v))) for r in runs for v in values]
        for args in runs:
            if "people" in params:
                args = dict(args, people={n: test_roster.Officer(n) for n in (1, 2, 3, 4)})
            assert set(args) == set(params), name
            test(**args)
    return seen


def _python_view(result) -> dict:
    readers = [[r.officer, r.key, r.signing_key, r.since_day]
               for _, r in sorted(result.readers.items())]
    return {"ok": result.ok, "badSeq": result.bad_seq, "length": result.length,
            "head": result.head, "root": result.root, "recoveryKey": result.recovery_key,
            "recoverySigningKey": result.recovery_signing_key, "readers": readers}


def _js_statements(statements):
    return [{"body": s.body, "signatures": [list(p) for p in s.signatures]} for s in statements]


def test_every_chain_of_the_roster_tests_verifies_alike_in_the_browser(monkeypatch):
    chains = _recorded_chains(monkeypatch)
    assert len(chains) > 50 and sum(r.ok for *_, r in chains) >= 10
    assert sum(not r.ok for *_, r in chains) > 30
    got = run_js([("verifyRoster", [pinned, channel, _js_statements(statements)])
                  for pinned, channel, statements, _ in chains])
    for (pinned, channel, statements, result), js_result in zip(chains, got):
        problem = js_result.pop("problem")
        assert js_result == _python_view(result), (result.problem, problem)
        assert (problem is None) == (result.problem is None)


def test_the_browser_pins_the_root_by_its_fingerprint_too():
    people = {n: test_roster.Officer(n) for n in (1, 2, 3)}
    chain = test_roster.admitted(people, 2, 3)
    statements = _js_statements(chain.statements)
    root = people[1].signing_key
    by_key, by_print, wrong_print, packed = run_js([
        ("verifyRoster", [root, chain.channel, statements]),
        ("verifyRoster", [key_fingerprint(root), chain.channel, statements]),
        ("verifyRoster", [key_fingerprint(people[2].signing_key), chain.channel, statements]),
        ("verifyRoster", [root, chain.channel,
                          [{"body": s["body"], "signatures": b"".join(b"".join(p) for p in
                                                                      s["signatures"])}
                           for s in statements]]),
    ])
    assert by_key["ok"] and by_print == by_key and packed == by_key
    assert not wrong_print["ok"] and wrong_print["badSeq"] == 1 and wrong_print["length"] == 0
    assert "pinned root" in wrong_print["problem"]


@pytest.mark.parametrize("swap", ["key", "signing_key"])
def test_a_key_swapped_after_signing_is_refused_and_the_prefix_kept(swap):
    # What a database edit does: the body of officer 3's admission names another key, so its
    # signature no longer verifies; the browser keeps the readers before it and admits no key of 3.
    people = {n: test_roster.Officer(n) for n in (1, 2, 3)}
    chain = test_roster.admitted(people, 2, 3)
    mallory = test_roster.Officer(9)
    old, new = getattr(people[3], swap), getattr(mallory, swap)
    last = chain.statements[-1]
    chain.statements[-1] = SignedStatement(last.body.replace(old.hex().encode(), new.hex().encode()),
                                           last.signatures)
    (got,) = run_js([("verifyRoster", [people[1].signing_key, chain.channel,
                                       _js_statements(chain.statements)])])
    assert not got["ok"] and got["badSeq"] == 3 and "does not verify" in got["problem"]
    assert [r[0] for r in got["readers"]] == [1, 2]


def test_whatever_the_page_is_handed_is_a_problem_never_an_exception():
    people = {n: test_roster.Officer(n) for n in (1, 2)}
    chain = test_roster.admitted(people, 2)
    good = _js_statements(chain.statements)
    root = people[1].signing_key
    odd = [None, {"body": "not bytes"}, {"body": good[1]["body"], "signatures": "x"},
           {"body": good[1]["body"], "signatures": [["a", "b"]]},
           {"body": good[1]["body"], "signatures": [[root[:31], bytes(64)]]}]
    got = run_js([("verifyRoster", [root, chain.channel, [good[0], s]]) for s in odd]
                 + [("verifyRoster", [root, chain.channel, None]),
                    ("verifyRoster", [b"short", chain.channel, good])])
    for result in got:
        assert isinstance(result, dict) and "error" not in result, result
        assert result["ok"] is False and result["problem"]
    assert [r["length"] for r in got] == [1] * len(odd) + [0, 0]
