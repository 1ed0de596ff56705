"""The migrations' triggers in PL/pgSQL (issue 30), by the SQLite trigger's name: each is a function
and a row trigger that does what the SQLite trigger of that name does (portal.store.migrations
m0007, m0017 and m0039). SQLite's `IS` and `IS NOT` on values that may be NULL are `IS NOT
DISTINCT FROM` and `IS DISTINCT FROM` here, and a comparison counted as 0 or 1 is cast to an
integer.

Used only by portal.store.dialect; tests/store/test_postgres_schema.py drives the queue's counts
through them on a real server and compares them with SQLite's.
"""

from __future__ import annotations


def _trigger(name: str, when: str, body: str, condition: str = "") -> tuple[str, str]:
    """A function holding `body` and the row trigger `name` that runs it `when` (e.g. "AFTER
    INSERT ON case_queue"), only for rows meeting `condition` if given."""
    function = (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\nRETURN NULL;\nEND\n$$"
    )
    guard = f" WHEN ({condition})" if condition else ""
    trigger = f"CREATE TRIGGER {name} {when} FOR EACH ROW{guard} EXECUTE FUNCTION {name}()"
    return function, trigger


def _unseen(row: str, kind: str) -> str:
    """1 when the queue row `row` (OLD/NEW) is unseen of this kind, else 0 (as m0017's _unseen)."""
    test = {"new": "= 'new'", "message": "= 'message'", "other": "NOT IN ('new', 'message')"}[kind]
    return f"({row}.seen = 0 AND COALESCE({row}.unseen_kind, '') {test})::int"


_READER_ADDED = """
UPDATE case_queue SET seen = 0, unseen_kind = 'readers' WHERE case_id = NEW.case_id AND seen = 1;
INSERT INTO case_queue (account_id, case_id, ref, seen, unseen_kind, channel_id, category, status,
                        assigned_to, due_key, activity_day, received_day)
SELECT NEW.account_id, c.id, c.ref, 0, 'new', c.channel_id, COALESCE(c.category, ''), c.status,
       COALESCE(c.assigned_to, 0), COALESCE(c.due_day, '9999-12-31'),
       COALESCE(c.activity_day, c.received_day), c.received_day
  FROM cases c WHERE c.id = NEW.case_id
ON CONFLICT DO NOTHING;"""

_CASE_CHANGED = """
UPDATE case_queue SET ref = NEW.ref, channel_id = NEW.channel_id, status = NEW.status,
       assigned_to = COALESCE(NEW.assigned_to, 0), received_day = NEW.received_day,
       due_key = COALESCE(NEW.due_day, '9999-12-31'),
       activity_day = COALESCE(NEW.activity_day, NEW.received_day),
       category = COALESCE(NEW.category, '')
 WHERE case_id = NEW.id;"""

_DIGEST_CHANGED = f"""
INSERT INTO digest_waiting (account_id) VALUES (NEW.account_id) ON CONFLICT DO NOTHING;
UPDATE digest_waiting
   SET unseen_new = unseen_new - {_unseen('OLD', 'new')} + {_unseen('NEW', 'new')},
       unseen_message = unseen_message - {_unseen('OLD', 'message')} + {_unseen('NEW', 'message')},
       unseen_other = unseen_other - {_unseen('OLD', 'other')} + {_unseen('NEW', 'other')},
       became_unseen = became_unseen + (NEW.seen = 0)::int
 WHERE account_id = NEW.account_id;"""

_ACTIVITY = """
UPDATE cases SET activity_day = NEW.day
 WHERE id = NEW.case_id AND (activity_day IS NULL OR activity_day < NEW.day);"""

TRIGGERS: dict[str, tuple[str, str]] = {
    "queue_count_added": _trigger(
        "queue_count_added",
        "AFTER INSERT ON case_queue",
        "INSERT INTO queue_counts (account_id) VALUES (NEW.account_id) ON CONFLICT DO NOTHING;\n"
        "UPDATE queue_counts SET cases = cases + 1, unseen = unseen + 1 - NEW.seen\n"
        " WHERE account_id = NEW.account_id;",
    ),
    "queue_count_removed": _trigger(
        "queue_count_removed",
        "AFTER DELETE ON case_queue",
        "UPDATE queue_counts SET cases = cases - 1, unseen = unseen - 1 + OLD.seen\n"
        " WHERE account_id = OLD.account_id;",
    ),
    "queue_count_seen": _trigger(
        "queue_count_seen",
        "AFTER UPDATE OF seen ON case_queue",
        "UPDATE queue_counts SET unseen = unseen + OLD.seen - NEW.seen\n"
        " WHERE account_id = NEW.account_id;",
        "OLD.seen <> NEW.seen",
    ),
    "queue_reader_added": _trigger(
        "queue_reader_added",
        "AFTER INSERT ON case_keys",
        _READER_ADDED,
        "NEW.account_id IS NOT NULL",
    ),
    "queue_reader_removed": _trigger(
        "queue_reader_removed",
        "AFTER DELETE ON case_keys",
        "DELETE FROM case_queue WHERE account_id = OLD.account_id AND case_id = OLD.case_id;\n"
        "UPDATE case_queue SET seen = 0, unseen_kind = 'readers'\n"
        " WHERE case_id = OLD.case_id AND seen = 1;",
        "OLD.account_id IS NOT NULL",
    ),
    "case_key_copy_dropped": _trigger(
        "case_key_copy_dropped",
        "AFTER UPDATE OF sealed_key ON case_keys",
        "UPDATE case_keys SET key_copy = NULL\n"
        " WHERE case_id = NEW.case_id AND recipient = NEW.recipient;",
        "NEW.key_copy IS NOT NULL AND NEW.sealed_key IS DISTINCT FROM OLD.sealed_key",
    ),
    "queue_case_changed": _trigger(
        "queue_case_changed",
        "AFTER UPDATE OF ref, channel_id, status, assigned_to, due_day, activity_day, category,"
        " received_day ON cases",
        _CASE_CHANGED,
    ),
    "queue_discloser_message": _trigger(
        "queue_discloser_message",
        "AFTER INSERT ON messages",
        "UPDATE case_queue SET seen = 0, unseen_kind = 'message'\n"
        " WHERE case_id = NEW.case_id AND seen = 1;",
        "NEW.author = 'discloser'",
    ),
    "queue_referral": _trigger(
        "queue_referral",
        "AFTER INSERT ON referrals",
        "UPDATE case_queue SET seen = 0, unseen_kind = 'referral'\n"
        " WHERE case_id = NEW.case_id AND seen = 1 AND account_id IS DISTINCT FROM NEW.account_id;",
    ),
    **{
        f"activity_on_{table}": _trigger(
            f"activity_on_{table}", f"AFTER INSERT ON {table}", _ACTIVITY
        )
        for table in ("messages", "status_events", "case_steps", "case_notes", "referrals")
    },
    "digest_queue_added": _trigger(
        "digest_queue_added",
        "AFTER INSERT ON case_queue",
        "INSERT INTO digest_waiting (account_id) VALUES (NEW.account_id) ON CONFLICT DO NOTHING;\n"
        f"UPDATE digest_waiting SET unseen_new = unseen_new + {_unseen('NEW', 'new')},\n"
        f"       unseen_message = unseen_message + {_unseen('NEW', 'message')},\n"
        f"       unseen_other = unseen_other + {_unseen('NEW', 'other')},\n"
        "       became_unseen = became_unseen + (NEW.seen = 0)::int\n"
        " WHERE account_id = NEW.account_id;",
    ),
    "digest_queue_removed": _trigger(
        "digest_queue_removed",
        "AFTER DELETE ON case_queue",
        f"UPDATE digest_waiting SET unseen_new = unseen_new - {_unseen('OLD', 'new')},\n"
        f"       unseen_message = unseen_message - {_unseen('OLD', 'message')},\n"
        f"       unseen_other = unseen_other - {_unseen('OLD', 'other')}\n"
        " WHERE account_id = OLD.account_id;",
    ),
    "digest_queue_changed": _trigger(
        "digest_queue_changed",
        "AFTER UPDATE OF seen, unseen_kind ON case_queue",
        _DIGEST_CHANGED,
        "OLD.seen <> NEW.seen OR OLD.unseen_kind IS DISTINCT FROM NEW.unseen_kind",
    ),
}
