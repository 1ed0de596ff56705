"""Numbered schema migrations. Append new ones; never edit one that has shipped.

The schema holds workflow metadata in the clear (reference, channel, status, days, assignment) and
every piece of discloser content only as ciphertext (columns named *_ct, or blob files).
Days are 'YYYY-MM-DD' in the installation's time zone, never finer, for anything a discloser did.
"""

MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [
            """CREATE TABLE channels (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT ''
        )""",
            """CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('officer', 'admin')),
            public_key BLOB NOT NULL,
            wrapped_private_key BLOB NOT NULL,
            totp_secret TEXT NOT NULL,
            created_day TEXT NOT NULL
        )""",
            """CREATE TABLE channel_officers (
            channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            PRIMARY KEY (channel_id, account_id)
        )""",
            """CREATE TABLE cases (
            id TEXT PRIMARY KEY,
            ref TEXT NOT NULL UNIQUE,
            channel_id INTEGER NOT NULL REFERENCES channels(id),
            status TEXT NOT NULL,
            received_day TEXT NOT NULL,
            receipt_lookup TEXT NOT NULL UNIQUE,
            discloser_public_key BLOB NOT NULL,
            assigned_to INTEGER REFERENCES accounts(id) ON DELETE SET NULL
        )""",
            """CREATE TABLE case_fields (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            value_ct BLOB NOT NULL,
            PRIMARY KEY (case_id, name)
        )""",
            # One sealed copy of the case key per reader: 'account:<id>', 'discloser' or 'recovery'.
            """CREATE TABLE case_keys (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            recipient TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
            sealed_key BLOB NOT NULL,
            PRIMARY KEY (case_id, recipient)
        )""",
            """CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            author TEXT NOT NULL CHECK (author IN ('discloser', 'officer')),
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            day TEXT NOT NULL,
            body_ct BLOB NOT NULL,
            UNIQUE (case_id, seq)
        )""",
            # message_id is NULL for attachments sent with the disclosure itself.
            """CREATE TABLE attachments (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            message_id TEXT REFERENCES messages(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            blob TEXT NOT NULL UNIQUE,
            meta_ct BLOB NOT NULL
        )""",
            """CREATE TABLE status_events (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            status TEXT NOT NULL,
            day TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            reason_ct BLOB,
            PRIMARY KEY (case_id, seq)
        )""",
            # Server halves of sessions that hold keys; the cookie holds the other half.
            """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('officer', 'discloser')),
            subject TEXT NOT NULL,
            server_half BLOB NOT NULL,
            expires_at INTEGER NOT NULL
        )""",
            """CREATE TABLE throttle (
            bucket TEXT PRIMARY KEY,
            window_start INTEGER NOT NULL,
            count INTEGER NOT NULL
        )""",
            "CREATE INDEX cases_by_channel ON cases (channel_id, received_day)",
            "CREATE INDEX case_keys_by_account ON case_keys (account_id)",
            "CREATE INDEX sessions_by_expiry ON sessions (expires_at)",
        ],
    ),
    # [enrol] Officers own their keys: enrolment links, forced first-sign-in change, recovery codes,
    # a TOTP replay guard, unambiguous display names and memberships that wait for a reader's
    # consent.
    (
        2,
        [
            "ALTER TABLE accounts ADD COLUMN name_key TEXT",
            # Set for accounts made by `officer add`: whoever ran it knows the passphrase and TOTP
            # secret.
            "ALTER TABLE accounts ADD COLUMN must_change_credentials INTEGER NOT NULL DEFAULT 0",
            "UPDATE accounts SET must_change_credentials = 1 WHERE role = 'officer'",
            "ALTER TABLE accounts ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE accounts ADD COLUMN pending_totp_secret TEXT",
            (
                "CREATE UNIQUE INDEX accounts_by_name_key ON accounts (name_key) WHERE name_key IS"
                " NOT NULL"
            ),
            (
                "ALTER TABLE channel_officers ADD COLUMN state TEXT NOT NULL DEFAULT 'confirmed' "
                "CHECK (state IN ('pending', 'confirmed'))"
            ),
            (
                "ALTER TABLE channel_officers ADD COLUMN requested_by INTEGER REFERENCES"
                " accounts(id) ON DELETE SET NULL"
            ),
            # Only the token's hash is kept; invited_by NULL means the server's operator (the
            # command line).
            """CREATE TABLE invitations (
            token_hash TEXT PRIMARY KEY,
            email TEXT NOT NULL COLLATE NOCASE,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL,
            channel_ids TEXT NOT NULL,
            invited_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            expires_at INTEGER NOT NULL,
            used INTEGER NOT NULL DEFAULT 0
        )""",
            # A used recovery code is deleted, so each works once.
            """CREATE TABLE recovery_codes (
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            code_hash TEXT NOT NULL,
            PRIMARY KEY (account_id, code_hash)
        )""",
            # Who asked for, confirmed, refused or made each membership: shown to the channel's
            # officers.
            """CREATE TABLE membership_events (
            id INTEGER PRIMARY KEY,
            channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
            subject TEXT NOT NULL,
            action TEXT NOT NULL,
            actor TEXT NOT NULL,
            day TEXT NOT NULL
        )""",
            """CREATE TABLE membership_events_seen (
            event_id INTEGER NOT NULL REFERENCES membership_events(id) ON DELETE CASCADE,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            PRIMARY KEY (event_id, account_id)
        )""",
        ],
    ),
    # [abuse] Sign-in budgets (portal.guard.sign_in_budget): failures per bucket in a window stored
    # rounded to the window, a pause rounded up to the minute; devices that signed in before, by a
    # hash of their cookie, with the day; each case's discloser usage. Old throttle rows held their
    # window's start to the second: dropped.
    (
        3,
        [
            """CREATE TABLE sign_in_budgets (
            bucket TEXT PRIMARY KEY,
            window_start INTEGER NOT NULL,
            failures INTEGER NOT NULL,
            paused_until INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID""",
            """CREATE TABLE sign_in_devices (
            token_hash TEXT NOT NULL,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            day TEXT NOT NULL,
            PRIMARY KEY (token_hash, account_id)
        ) WITHOUT ROWID""",
            # What a case's discloser has sent over its life, against the per-case quota officers
            # see.
            """CREATE TABLE case_quota (
            case_id TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
            messages INTEGER NOT NULL DEFAULT 0,
            bytes INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID""",
            "DELETE FROM throttle",
        ],
    ),
    # [guard] The audit chain; workflow records bound to their case (binding = 2: the record's
    # values are in the associated data of its ciphertext, 0: made before, readable but unverified);
    # sessions with an absolute end.
    (
        4,
        [
            """CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            event TEXT NOT NULL,
            actor INTEGER,
            subject INTEGER,
            channel_id INTEGER,
            case_ref TEXT,
            detail TEXT NOT NULL DEFAULT '{}',
            link TEXT NOT NULL
        )""",
            "CREATE INDEX audit_by_case ON audit_log (case_ref)",
            "CREATE INDEX audit_by_actor ON audit_log (actor)",
            "CREATE INDEX audit_by_subject ON audit_log (subject)",
            "ALTER TABLE status_events ADD COLUMN binding INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE messages ADD COLUMN binding INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE sessions ADD COLUMN ends_at INTEGER NOT NULL DEFAULT 0",
        ],
    ),
    # [input] One-time submission tokens (portal.guard.submissions): only a hash and a day, kept 60
    # days.
    (
        5,
        [
            """CREATE TABLE submission_tokens (
            token_hash TEXT PRIMARY KEY,
            day TEXT NOT NULL
        ) WITHOUT ROWID""",
            "CREATE INDEX submission_tokens_by_day ON submission_tokens (day)",
        ],
    ),
    # [workflow] The statutory case workflow: each channel's regime, the s 13 steps with their
    # dates, the s 13(2) extension and progress updates, the next deadline stored when it changes
    # (so lists never compute it per row), referrals, officers-only case keys and notes, the
    # interests register and the appropriate-authority directory. Discloser content stays in *_ct
    # columns.
    (
        6,
        [
            (
                "ALTER TABLE channels ADD COLUMN regime TEXT NOT NULL DEFAULT 'nz' CHECK (regime IN"
                " ('nz', 'eu'))"
            ),
            "ALTER TABLE cases ADD COLUMN due_day TEXT",
            "ALTER TABLE cases ADD COLUMN due_kind TEXT",
            """CREATE TABLE case_steps (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            step TEXT NOT NULL,
            day TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            PRIMARY KEY (case_id, step)
        )""",
            # s 13(2): dealing with it in 20 working days is not practicable. The expected timeframe
            # told to the discloser is ciphertext under the case key; the update rhythm drives the
            # clock.
            """CREATE TABLE case_extensions (
            case_id TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
            day TEXT NOT NULL,
            update_every INTEGER NOT NULL CHECK (update_every BETWEEN 1 AND 60),
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            detail_ct BLOB NOT NULL
        )""",
            """CREATE TABLE progress_updates (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            day TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            PRIMARY KEY (case_id, seq)
        )""",
            # A second random key per case, sealed to the officers who read it and never to the
            # discloser: it encrypts internal notes, referral records and the list of excluded
            # officers.
            """CREATE TABLE internal_keys (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            sealed_key BLOB NOT NULL,
            PRIMARY KEY (case_id, account_id)
        )""",
            """CREATE TABLE case_notes (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            day TEXT NOT NULL,
            body_ct BLOB NOT NULL,
            UNIQUE (case_id, seq)
        )""",
            # NULL when the discloser excluded nobody; otherwise ciphertext under the internal key.
            "ALTER TABLE cases ADD COLUMN exclusions_ct BLOB",
            """CREATE TABLE referrals (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            day TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            detail_ct BLOB NOT NULL,
            PRIMARY KEY (case_id, seq)
        )""",
            # The appropriate authorities (s 25, Schedule 2): data an administrator edits, seeded at
            # start.
            """CREATE TABLE authorities (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            covers TEXT NOT NULL,
            source TEXT NOT NULL,
            exclusive_for TEXT CHECK (exclusive_for IN ('intelligence_security',
                'international_relations'))
        )""",
            # Officers' declared interests (conflicts register), shown to fellow officers when
            # triaging.
            """CREATE TABLE interests (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            day TEXT NOT NULL,
            text TEXT NOT NULL
        )""",
            "CREATE INDEX cases_by_due ON cases (due_day)",
            "CREATE INDEX interests_by_account ON interests (account_id)",
        ],
    ),
    # [records] Identity confidentiality (s 17): the discloser's contact details under a per-case
    # identity key sealed to each officer reader, apart from the case key, so that what leaves the
    # portal can leave them out; releases of the identity beyond the readers (ground in the clear,
    # recipient and reason under the case key for the discloser to read), the discloser's consent
    # questions and answers; oral disclosures.
    (
        8,
        [
            """CREATE TABLE identity_keys (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            sealed_key BLOB NOT NULL,
            PRIMARY KEY (case_id, account_id)
        )""",
            """CREATE TABLE identity_fields (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            value_ct BLOB NOT NULL,
            PRIMARY KEY (case_id, name)
        )""",
            """CREATE TABLE identity_releases (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            day TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            ground TEXT NOT NULL CHECK (ground IN ('consent', 'investigation', 'health_safety',
                'natural_justice',
                                                   'law_enforcement')),
            state TEXT NOT NULL CHECK (state IN ('pending', 'released')),
            confirmed_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            confirmed_day TEXT,
            detail_ct BLOB NOT NULL,
            PRIMARY KEY (case_id, seq)
        )""",
            """CREATE TABLE consent_requests (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            day TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            answer TEXT CHECK (answer IN ('yes', 'no')),
            answer_day TEXT,
            detail_ct BLOB NOT NULL,
            PRIMARY KEY (case_id, seq)
        )""",
            # A disclosure made in person or by phone, recorded by an officer: the receipt the
            # officer saw is replaced at the discloser's first visit (receipt_replaced_day); the
            # officer confirms the record after the discloser could check and correct it.
            """CREATE TABLE oral_disclosures (
            case_id TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
            recorded_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            day TEXT NOT NULL,
            receipt_replaced_day TEXT,
            confirmed_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            confirmed_day TEXT
        )""",
        ],
    ),
    # [queue] The console as a work queue (portal.casework.queue). Each reader's queue is a row per
    # case they hold a key for, copying the case's sort and filter keys so that every filter and
    # order is one index range (keyset pagination, no OFFSET, no sort of the whole queue). Triggers
    # keep the copies right whatever code path changes a case or its readers; the per-reader counts
    # are kept the same way. Seen state is one flag and the kind of event, nothing of the content.
    # The category (one of the s 10 values, never typed text) and the day of the latest activity are
    # kept in the clear (SECURITY.md).
    (
        7,
        [
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
            # A reader gains a key: a new disclosure, or a grant. Readers who had seen the case are
            # told that its readers changed (a membership event), and the same when one loses their
            # key.
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
            # Existing readers: a case counts as seen when the audit log shows this reader opened
            # it.
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
        ],
    ),
    # [keys] Key lifecycle: each channel's recovery public key and the copies of every case's keys
    # sealed to it (the private half never reaches the server); offboarded accounts; key rotations
    # in progress (the new key pair wrapped under the same passphrase, so an interrupted rotation
    # resumes and every sealed copy opens with the old key or the new one); the last notification
    # digest sent to each officer.
    (
        9,
        [
            "ALTER TABLE channels ADD COLUMN recovery_public_key BLOB",
            """CREATE TABLE recovery_copies (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            key_table TEXT NOT NULL CHECK (key_table IN ('case_keys', 'internal_keys',
                'identity_keys')),
            sealed_key BLOB NOT NULL,
            PRIMARY KEY (case_id, key_table)
        )""",
            "ALTER TABLE accounts ADD COLUMN offboarded_day TEXT",
            """CREATE TABLE key_rotations (
            account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
            new_public_key BLOB NOT NULL,
            new_wrapped_private_key BLOB NOT NULL
        )""",
            """CREATE TABLE notification_digests (
            account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
            slot TEXT NOT NULL,
            fingerprint TEXT NOT NULL
        )""",
        ],
    ),
    # [ops] Retention (portal.operations.retention): each channel's period after a case is closed,
    # in months (7 years by default; public records rules decide the real value), legal holds that
    # stop it, and deletion requests awaiting a second officer. A case's closing day is its last
    # 'closed' status record's day.
    (
        10,
        [
            (
                "ALTER TABLE channels ADD COLUMN retention_months INTEGER NOT NULL DEFAULT 84 CHECK"
                " (retention_months >= 1)"
            ),
            """CREATE TABLE legal_holds (
            case_id TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
            day TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL
        ) WITHOUT ROWID""",
            """CREATE TABLE deletion_requests (
            case_id TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
            day TEXT NOT NULL,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE
        ) WITHOUT ROWID""",
        ],
    ),
    # [guard] The workflow records written before record binding (schema 4), as they stand now: only
    # these may stay unbound. An unbound record missing here was written (or downgraded) outside the
    # portal.
    (
        11,
        [
            """CREATE TABLE legacy_records (
            kind TEXT NOT NULL CHECK (kind IN ('status', 'message')),
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            record TEXT NOT NULL,
            PRIMARY KEY (kind, case_id, record)
        ) WITHOUT ROWID""",
            (
                "INSERT INTO legacy_records SELECT 'status', case_id, CAST(seq AS TEXT) FROM"
                " status_events WHERE binding != 2"
            ),
            (
                "INSERT INTO legacy_records SELECT 'message', case_id, id FROM messages WHERE"
                " binding != 2"
            ),
        ],
    ),
]
