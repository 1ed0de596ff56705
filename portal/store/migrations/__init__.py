"""Numbered schema migrations, one module each. Append new ones; never edit one that has shipped.

A migration's STATEMENTS are SQL in SQLite's dialect (translated for PostgreSQL), or a data step: a
callable given `execute(sql, params)` (SQLite's SQL, `?` placeholders, on either engine), for a
change SQL cannot make (migration 52 hashes the stored receipt lookups).

The schema holds workflow metadata in the clear (reference, channel, status, days, assignment) and
every piece of discloser content only as ciphertext (columns named *_ct, or blob files). Days are
'YYYY-MM-DD' in the installation's time zone, never finer, for anything a discloser did.
"""

from portal.store.migrations import (
    m0001_core,
    m0002_enrolment,
    m0003_sign_in_budgets,
    m0004_audit_chain,
    m0005_submission_tokens,
    m0006_workflow,
    m0007_work_queue,
    m0008_identity,
    m0009_key_lifecycle,
    m0010_retention,
    m0011_legacy_records,
    m0012_signing_keys,
    m0013_signed_consent,
    m0014_officer_confirmed_keys,
    m0015_roster,
    m0016_batches,
    m0017_statistics_and_digests,
    m0018_flood,
    m0022_departed_assignees,
    m0029_saved_views,
    m0030_unordered_rows,
    m0031_daily_digests,
    m0032_offboarding_requests,
    m0034_original_files,
    m0035_discloser_marks,
    m0036_sealing_mode,
    m0037_sealed_uploads,
    m0038_authority_contacts,
    m0039_case_key_copies,
    m0040_invitation_roles,
    m0044_received_receipt_salts,
    m0046_sealed_reply_tokens,
    m0047_shared_state,
    m0048_database_blobs,
    m0049_channel_moves,
    m0052_hashed_lookups,
    m0054_cascade_indexes,
)

# In the order they were written (8 landed before 7); each applies once, by its number.
MIGRATIONS: list[tuple[int, list[str]]] = [
    (migration.NUMBER, migration.STATEMENTS)
    for migration in (
        m0001_core,
        m0002_enrolment,
        m0003_sign_in_budgets,
        m0004_audit_chain,
        m0005_submission_tokens,
        m0006_workflow,
        m0008_identity,
        m0007_work_queue,
        m0009_key_lifecycle,
        m0010_retention,
        m0011_legacy_records,
        m0012_signing_keys,
        m0013_signed_consent,
        m0014_officer_confirmed_keys,
        m0015_roster,
        m0016_batches,
        m0017_statistics_and_digests,
        m0018_flood,
        m0022_departed_assignees,
        m0029_saved_views,
        m0030_unordered_rows,
        m0031_daily_digests,
        m0032_offboarding_requests,
        m0034_original_files,
        m0035_discloser_marks,
        m0036_sealing_mode,
        m0037_sealed_uploads,
        m0038_authority_contacts,
        m0039_case_key_copies,
        m0040_invitation_roles,
        m0044_received_receipt_salts,
        m0046_sealed_reply_tokens,
        m0047_shared_state,
        m0048_database_blobs,
        m0049_channel_moves,
        m0052_hashed_lookups,
        m0054_cascade_indexes,
    )
]
