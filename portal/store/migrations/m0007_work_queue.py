"""Migration 7 [queue]: The console as a work queue (portal.casework.queue). Each reader's queue is
a row per case they hold a key for, copying the case's sort and filter keys so that every filter and
order is one index range (keyset pagination, no OFFSET, no sort of the whole queue). Triggers keep
the copies right whatever code path changes a case or its readers; the per-reader counts are kept
the same way. Seen state is one flag and the kind of event, nothing of the content. The category
(one of the s 10 values, never typed text) and the day of the latest activity are kept in the clear
(SECURITY.md).
"""

NUMBER = 7

STATEMENTS: list[str] = [
    "ALTER TABLE cases ADD COLUMN category TEXT",
    "ALTER TABLE cases ADD COLUMN activity_day TEXT",
    (
        "UPDATE cases SET activity_day = MAX(received_day, "
        "COALESCE((SELECT MAX(day) FROM messages m WHERE m.case_id = cases.id), ''), "
        "COALESCE((SELECT MAX(day) FROM status_events s WHERE s.case_id = cases.id), ''))"
    ),
    """CREATE TABLE case_queue (
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            ref TEXT NOT NULL,
            seen INTEGER NOT NULL DEFAULT 0 CHECK (seen IN (0, 1)),
            unseen_kind TEXT CHECK (unseen_kind IN ('new', 'message', 'referral', 'readers')),
            channel_id INTEGER NOT NULL,
            category TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            assigned_to INTEGER NOT NULL DEFAULT 0,
            due_key TEXT NOT NULL,
            activity_day TEXT NOT NULL,
            received_day TEXT NOT NULL,
            PRIMARY KEY (account_id, case_id)
        ) WITHOUT ROWID""",
    """CREATE TABLE queue_counts (
            account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
            cases INTEGER NOT NULL DEFAULT 0,
            unseen INTEGER NOT NULL DEFAULT 0
        )""",
    """CREATE TRIGGER queue_count_added AFTER INSERT ON case_queue BEGIN
            INSERT OR IGNORE INTO queue_counts (account_id) VALUES (new.account_id);
            UPDATE queue_counts SET cases = cases + 1, unseen = unseen + 1 - new.seen
             WHERE account_id = new.account_id;
        END""",
    """CREATE TRIGGER queue_count_removed AFTER DELETE ON case_queue BEGIN
            UPDATE queue_counts SET cases = cases - 1, unseen = unseen - 1 + old.seen
             WHERE account_id = old.account_id;
        END""",
    """CREATE TRIGGER queue_count_seen AFTER UPDATE OF seen ON case_queue WHEN old.seen !=
                new.seen BEGIN
            UPDATE queue_counts SET unseen = unseen + old.seen - new.seen WHERE account_id =
                new.account_id;
        END""",
    # A reader gains a key: a new disclosure, or a grant. Readers who had seen the case are told
    # that its readers changed (a membership event), and the same when one loses their key.
    """CREATE TRIGGER queue_reader_added AFTER INSERT ON case_keys WHEN new.account_id IS
                NOT NULL BEGIN
            UPDATE case_queue SET seen = 0, unseen_kind = 'readers' WHERE case_id = new.case_id AND
                seen = 1;
            INSERT OR IGNORE INTO case_queue (account_id, case_id, ref, seen, unseen_kind,
                channel_id, category,
                                              status, assigned_to, due_key, activity_day,
                                                  received_day)
            SELECT new.account_id, c.id, c.ref, 0, 'new', c.channel_id, COALESCE(c.category, ''),
                c.status,
                   COALESCE(c.assigned_to, 0), COALESCE(c.due_day, '9999-12-31'),
                   COALESCE(c.activity_day, c.received_day), c.received_day
              FROM cases c WHERE c.id = new.case_id;
        END""",
    """CREATE TRIGGER queue_reader_removed AFTER DELETE ON case_keys WHEN old.account_id IS
                NOT NULL BEGIN
            DELETE FROM case_queue WHERE account_id = old.account_id AND case_id = old.case_id;
            UPDATE case_queue SET seen = 0, unseen_kind = 'readers' WHERE case_id = old.case_id AND
                seen = 1;
        END""",
    """CREATE TRIGGER queue_case_changed AFTER UPDATE OF ref, channel_id, status,
                assigned_to, due_day,
            activity_day, category, received_day ON cases BEGIN
            UPDATE case_queue SET ref = new.ref, channel_id = new.channel_id, status = new.status,
                   assigned_to = COALESCE(new.assigned_to, 0), received_day = new.received_day,
                   due_key = COALESCE(new.due_day, '9999-12-31'),
                   activity_day = COALESCE(new.activity_day, new.received_day),
                   category = COALESCE(new.category, '')
             WHERE case_id = new.id;
        END""",
    """CREATE TRIGGER queue_discloser_message AFTER INSERT ON messages WHEN new.author =
                'discloser' BEGIN
            UPDATE case_queue SET seen = 0, unseen_kind = 'message' WHERE case_id = new.case_id AND
                seen = 1;
        END""",
    """CREATE TRIGGER queue_referral AFTER INSERT ON referrals BEGIN
            UPDATE case_queue SET seen = 0, unseen_kind = 'referral'
             WHERE case_id = new.case_id AND seen = 1 AND account_id IS NOT new.account_id;
        END""",
    # The day of the latest activity: messages, status records, steps, notes and referrals.
    *[f"""CREATE TRIGGER activity_on_{table} AFTER INSERT ON {table} BEGIN
            UPDATE cases SET activity_day = new.day
             WHERE id = new.case_id AND (activity_day IS NULL OR activity_day < new.day);
        END""" for table in ("messages", "status_events", "case_steps", "case_notes", "referrals")],
    # Existing readers: a case counts as seen when the audit log shows this reader opened it.
    """INSERT INTO case_queue (account_id, case_id, ref, seen, unseen_kind, channel_id,
                category, status,
                                   assigned_to, due_key, activity_day, received_day)
           SELECT account_id, id, ref, seen, CASE seen WHEN 0 THEN 'new' END, channel_id, '',
               status,
                  COALESCE(assigned_to, 0), COALESCE(due_day, '9999-12-31'), COALESCE(activity_day,
                      received_day),
                  received_day
             FROM (SELECT k.account_id, c.*, EXISTS (SELECT 1 FROM audit_log l WHERE l.case_ref =
                 c.ref
                          AND l.actor = k.account_id AND l.event = 'case_view') AS seen
                     FROM case_keys k JOIN cases c ON c.id = k.case_id WHERE k.account_id IS NOT
                         NULL)""",
    # One index per filter and order: the filter's column (if any), then the order's keys.
    *[
        f"CREATE INDEX queue_{name} ON case_queue"
        f" (account_id{', ' + column if column else ''}, {keys})"
        for column in ("", "status", "channel_id", "category", "assigned_to")
        for name, keys in [
            (f"{column or 'all'}_attention", "seen, due_key, ref"),
            (f"{column or 'all'}_deadline", "due_key, ref"),
            (f"{column or 'all'}_activity", "activity_day, ref"),
            (f"{column or 'all'}_received", "received_day, ref"),
        ]
    ],
    "CREATE INDEX queue_by_ref ON case_queue (account_id, ref)",
    # the triggers' updates of one case's rows
    "CREATE INDEX queue_by_case ON case_queue (case_id)",
]
