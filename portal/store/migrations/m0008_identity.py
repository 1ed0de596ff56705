"""Migration 8 [records]: Identity confidentiality (s 17): the discloser's contact details under a
per-case identity key sealed to each officer reader, apart from the case key, so that what leaves
the portal can leave them out; releases of the identity beyond the readers (ground in the clear,
recipient and reason under the case key for the discloser to read), the discloser's consent
questions and answers; oral disclosures.
"""

NUMBER = 8

STATEMENTS: list[str] = [
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
    # A disclosure made in person or by phone, recorded by an officer: the receipt the officer saw
    # is replaced at the discloser's first visit (receipt_replaced_day); the officer confirms the
    # record after the discloser could check and correct it.
    """CREATE TABLE oral_disclosures (
            case_id TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
            recorded_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            day TEXT NOT NULL,
            receipt_replaced_day TEXT,
            confirmed_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            confirmed_day TEXT
        )""",
]
