"""Migration 29 [inbox]: an officer's saved views of the inbox (portal.casework.saved_views). A view
keeps the queue's filters and order only, as the GET parameters that give it; never a case
reference or a word searched for (SECURITY.md, "Searching the inbox")."""

NUMBER = 29

STATEMENTS: list[str] = [
    """CREATE TABLE saved_views (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            filters TEXT NOT NULL,
            UNIQUE (account_id, name)
        )""",
]
