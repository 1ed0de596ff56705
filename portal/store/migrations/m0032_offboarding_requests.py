"""Migration 32 [admin]: an administrator's request to offboard an officer
(portal.keys.offboarding), pending until an officer who reads one of that officer's channels signs
it, as a membership waits for an officer's confirmation: nobody removes a reader alone either."""

NUMBER = 32

STATEMENTS: list[str] = [
    """CREATE TABLE offboarding_requests (
            account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
            requested_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            day TEXT NOT NULL
        )""",
]
