"""Migration 17 [cost]: statistics frozen per completed period, and what a digest needs kept per
officer, so that neither grows with the cases.

`statistics_snapshots` keeps each officer's figures of a completed period as the page shows them
(small counts already hidden; portal.casework.statistics_snapshots) and how many cases they cover,
`statistics_snapshot_cases` the cases each frozen quarter covers, from which `portal audit verify`
rebuilds it. `digest_waiting` keeps, per officer, how many unseen cases of each kind wait and a
count of the times a case became unseen, kept by triggers on the queue
(portal.operations.notifications).
"""

NUMBER = 17

_KIND = {
    "new": "IS 'new'",
    "message": "IS 'message'",
    "other": "NOT IN ('new', 'message')",
}


def _unseen(row: str, kind: str) -> str:
    """1 when the queue row `row` (old/new) is unseen of this kind, else 0."""
    return f"({row}.seen = 0 AND COALESCE({row}.unseen_kind, '') {_KIND[kind]})"


STATEMENTS: list[str] = [
    """CREATE TABLE statistics_snapshots (
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            report TEXT NOT NULL,
            covered INTEGER NOT NULL,
            PRIMARY KEY (account_id, period_start, period_end)
        ) WITHOUT ROWID""",
    # A case deleted by retention leaves the list (and stays counted where it was published: the
    # snapshot's `covered` then no longer matches its list, and it is not rebuilt).
    """CREATE TABLE statistics_snapshot_cases (
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            period_start TEXT NOT NULL,
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            PRIMARY KEY (account_id, period_start, case_id)
        ) WITHOUT ROWID""",
    """CREATE TABLE digest_waiting (
            account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
            unseen_new INTEGER NOT NULL DEFAULT 0,
            unseen_message INTEGER NOT NULL DEFAULT 0,
            unseen_other INTEGER NOT NULL DEFAULT 0,
            became_unseen INTEGER NOT NULL DEFAULT 0
        )""",
    f"""INSERT INTO digest_waiting (account_id, unseen_new, unseen_message, unseen_other)
           SELECT account_id, SUM({_unseen('q', 'new')}), SUM({_unseen('q', 'message')}),
                  SUM({_unseen('q', 'other')})
             FROM case_queue q GROUP BY account_id""",
    f"""CREATE TRIGGER digest_queue_added AFTER INSERT ON case_queue BEGIN
            INSERT OR IGNORE INTO digest_waiting (account_id) VALUES (new.account_id);
            UPDATE digest_waiting SET unseen_new = unseen_new + {_unseen('new', 'new')},
                   unseen_message = unseen_message + {_unseen('new', 'message')},
                   unseen_other = unseen_other + {_unseen('new', 'other')},
                   became_unseen = became_unseen + (new.seen = 0)
             WHERE account_id = new.account_id;
        END""",
    f"""CREATE TRIGGER digest_queue_removed AFTER DELETE ON case_queue BEGIN
            UPDATE digest_waiting SET unseen_new = unseen_new - {_unseen('old', 'new')},
                   unseen_message = unseen_message - {_unseen('old', 'message')},
                   unseen_other = unseen_other - {_unseen('old', 'other')}
             WHERE account_id = old.account_id;
        END""",
    f"""CREATE TRIGGER digest_queue_changed AFTER UPDATE OF seen, unseen_kind ON case_queue
             WHEN old.seen != new.seen OR old.unseen_kind IS NOT new.unseen_kind BEGIN
            INSERT OR IGNORE INTO digest_waiting (account_id) VALUES (new.account_id);
            UPDATE digest_waiting
               SET unseen_new = unseen_new - {_unseen('old', 'new')} + {_unseen('new', 'new')},
                   unseen_message = unseen_message - {_unseen('old', 'message')}
                       + {_unseen('new', 'message')},
                   unseen_other = unseen_other - {_unseen('old', 'other')}
                       + {_unseen('new', 'other')},
                   became_unseen = became_unseen + (new.seen = 0)
             WHERE account_id = new.account_id;
        END""",
]
