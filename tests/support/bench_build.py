"""Installations with many cases, built quickly but only of data the portal could have made (issue 23):
shared by bench/bench_grants.py and tests/keys/test_bench_installation.py, which checks that one passes
`portal audit verify`.

Two officers of one channel, both set up through `portal officer add` and their first sign-in (the
second admitted to the channel's signed roster by the first). The cases are disclosures received before
the second officer joined: each stored by the portal's own intake function (cases.store_case: the case
row, its encrypted fields, its key sealed to the first officer and to the discloser, the officers-only
and identity keys, the first deadline), many to a transaction, each with its own case key, id and
discloser key, received a day apart over several years. A disclosure writes no audit entry and its
first status record ("received") is the discloser's own, so the chain stays as the set-up left it.
"""
from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import crypto
from portal.casework.categories import CATEGORIES
from portal.core.context import open_context
from portal.intake import cases
from portal.intake.receiving import Intake
from portal.keys import channels
from portal.records import casefiles
from portal.store import transaction
from tests.conftest import Officer, add_account, run_cli

CHANNEL = "Audit and Risk"
BATCH = 2000  # cases per transaction while building (nobody else uses the installation meanwhile)
FIRST_DAY = dt.date(2022, 1, 10)  # working days are known from 2022


def build(data_dir: Path, count: int, *, say=None) -> tuple[Officer, Officer]:
    """A fast-KDF installation with `count` cases read by the first officer; returns (first, second)."""
    run_cli(data_dir, "init", "--insecure-fast-kdf")
    run_cli(data_dir, "channel", "add", CHANNEL)
    ana = add_account(data_dir, "officer", "ana@agency.govt.nz", "Ana Officer", [CHANNEL])
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", [CHANNEL])
    ctx = open_context(data_dir)
    channel = channels.find_channel(ctx, CHANNEL)
    [first] = [o for o in channels.channel_officers(ctx, channel.id) if o.email == ana.email]
    categories = list(CATEGORIES)
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        with transaction(ctx.db):
            for i in range(start, min(start + BATCH, count)):
                day = (FIRST_DAY + dt.timedelta(days=i * 1500 // max(count, 1))).isoformat()
                intake = Intake(ctx, casefiles.new_id(), crypto.new_case_key(), day)
                _, discloser_public_key = crypto.generate_keypair()
                values = {"channel": CHANNEL, "category": categories[i % len(categories)],
                          "summary": f"Matter number {i}", "details": "Details of the matter. " * 4,
                          "disclosed_elsewhere": "no", "contact": ""}
                # No receipt: its Argon2id derivation is bench_disclosures' measure; a random
                # lookup id stands in, as a receipt's would.
                cases.store_case(ctx, intake, channel.id, [first], values, os.urandom(32).hex(),
                                 discloser_public_key)
        if say is not None and count >= BATCH:
            say(f"   built {min(start + BATCH, count)} of {count} cases ({time.perf_counter() - started:.0f} s)")
    ctx.db.execute("ANALYZE")
    ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return ana, cat
