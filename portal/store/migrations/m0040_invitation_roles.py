"""Migration 40 [issue 29]: an invitation names the role of the account it makes: an officer's, as
every invitation so far, or an administrator's (an organisation's first administrator, invited by
the service operator: portal.service.invitations). An administrator's invitation names no channel.
"""

NUMBER = 40

STATEMENTS: list[str] = [
    "ALTER TABLE invitations ADD COLUMN role TEXT NOT NULL DEFAULT 'officer'"
    " CHECK (role IN ('officer', 'admin'))",
]
