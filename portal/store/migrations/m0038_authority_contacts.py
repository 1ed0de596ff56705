"""Migration 38 [issue 25]: an appropriate authority's contact as an administrator changed or
checked it in the console (portal.casework.authority_contacts).

One row per authority whose contact was changed or checked: it overrides the shipped contact of
portal/data/authorities.json for that authority, and the shipped file stays the default for every
other. `checked_on` is the day (YYYY-MM-DD) the administrator said they checked the contact against
the authority's own website, NULL when they did not. No discloser content: these are the
authorities' public contacts."""

NUMBER = 38

STATEMENTS: list[str] = [
    """CREATE TABLE authority_contacts (
            authority_id INTEGER NOT NULL PRIMARY KEY REFERENCES authorities(id) ON DELETE CASCADE,
            website TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL DEFAULT '',
            phone TEXT NOT NULL DEFAULT '',
            checked_on TEXT,
            changed_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            changed_on TEXT NOT NULL
        )""",
]
