"""Migration 22 [faults]: a case assigned to an officer who has left says so, and counts as not
assigned.

`cases.assigned_before`: the officer a case was assigned to when they were offboarded
(portal.keys.access.offboard clears `assigned_to` and keeps them here), shown as "Not assigned (was:
NAME, who has left)" until someone assigns the case again. Cases already assigned to an offboarded
officer are moved the same way (the queue's copy follows by its trigger, migration 7).
"""

NUMBER = 22

STATEMENTS: list[str] = [
    "ALTER TABLE cases ADD COLUMN assigned_before INTEGER REFERENCES accounts(id)",
    """UPDATE cases SET assigned_before = assigned_to, assigned_to = NULL
        WHERE assigned_to IN (SELECT id FROM accounts WHERE offboarded_day IS NOT NULL)""",
]
