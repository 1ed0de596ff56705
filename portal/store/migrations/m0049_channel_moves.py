"""Migration 49 [issue 29]: moving a channel and its cases between organisations of a service
(docs/organisations.md, "Moving a channel").

In the receiving organisation, `channel_arrivals` is one move asked into one of its channels: the
sending organisation (by service id) and channel name, and the roster head of the sending channel
that one of the receiving channel's officers confirmed they were shown. `arriving_cases` marks a
case written here whose copy in the sending organisation is not removed yet, so an interrupted
move is finished from these marks. In the sending organisation, `visiting_officers` names the
account rows (public halves only) of the receiving officers, for the move that asked for them."""

NUMBER = 49

STATEMENTS: list[str] = [
    """CREATE TABLE channel_arrivals (
            id TEXT PRIMARY KEY,
            channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
            from_organisation TEXT NOT NULL,
            from_channel TEXT NOT NULL,
            asked_day TEXT NOT NULL,
            roster_head TEXT,
            confirmed_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            confirmed_day TEXT,
            state TEXT NOT NULL DEFAULT 'asked' CHECK (state IN ('asked', 'confirmed', 'done'))
        )""",
    """CREATE TABLE arriving_cases (
            case_id TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
            move_id TEXT NOT NULL REFERENCES channel_arrivals(id)
        ) WITHOUT ROWID""",
    """CREATE TABLE visiting_officers (
            account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
            move_id TEXT NOT NULL,
            channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE
        )""",
]
