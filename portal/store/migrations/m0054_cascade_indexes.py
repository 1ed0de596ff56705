"""Migration 54 [issue 23]: an index leading with `case_id` on each table whose rows go with a
deleted case (ON DELETE CASCADE) and had none: `statistics_snapshot_cases` (its primary key leads
with the officer) and `legacy_records` (with the kind). Without one, each case deleted (retention,
a channel move) read the whole table to find its rows: a sweep over many cases was quadratic.
`tests/store/test_query_plans.py` checks every foreign key onto a table that grows with cases."""

NUMBER = 54

STATEMENTS: list[str] = [
    "CREATE INDEX statistics_snapshot_cases_by_case ON statistics_snapshot_cases (case_id)",
    "CREATE INDEX legacy_records_by_case ON legacy_records (case_id)",
    "ANALYZE statistics_snapshot_cases",
    "ANALYZE legacy_records",
]
