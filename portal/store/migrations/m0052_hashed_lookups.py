"""Migration 52 [issue 27, the fresh review's M2]: no receipt lookup id is stored in the clear.

Cases the server sealed kept the lookup id itself in `receipt_lookup`, so a copy of the database
held a bearer value that opened a status session with script (`POST /status/sealed`). Each such
value is replaced by its hash (crypto.lookup_hash, "h1:" + 64 hex), as cases sealed in a browser
have kept since migration 36; from now on the portal stores and accepts only hashes
(portal.intake.receipts.case_of_lookup). A discloser's receipt still opens their case: the lookup
derived from it is hashed before it is looked up. A data step in Python (the hash has no SQL
counterpart in either engine): see portal/store/migrations/__init__.py."""

import crypto

NUMBER = 52


def _hash_lookups(execute) -> None:
    rows = execute(
        "SELECT id, receipt_lookup FROM cases WHERE substr(receipt_lookup, 1, 3) <> 'h1:'", []
    ).fetchall()
    for case_id, lookup in rows:
        try:
            hashed = crypto.lookup_hash(lookup)
        except ValueError:  # not a lookup id (64 hex): it opens nothing either way
            continue
        execute("UPDATE cases SET receipt_lookup = ? WHERE id = ?", [hashed, case_id])


STATEMENTS: list = [_hash_lookups]
