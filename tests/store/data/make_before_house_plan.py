"""Make tests/store/data/made-before-house-plan/ with the code of commit 9156320 (before the house
plan), for tests/store/test_upgrade.py. Its secrets are fake. Run from a checkout of that commit:

    git worktree add /tmp/old-main 9156320
    cd /tmp/old-main && PYTHONPATH=/tmp/old-main python PATH/TO/make_before_house_plan.py OUT_DIR

It prints the officer's passphrase and second-factor secret, which the test keeps as constants.
"""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from portal.app import create_app
from tests.conftest import Officer, finish_first_sign_in
from tests.support import csrf_token, disclosure_fields, post_multipart, receipt_from

CHANNEL = "Audit and Risk"
DETAILS = "Made before the house plan: the 2024 payroll figures were altered after sign-off."
EVIDENCE = b"%PDF-1.4 evidence made before the house plan\n"


def portal(data_dir: Path, *args: str, input: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "portal", "--data", str(data_dir), *args],
                          input=input, capture_output=True, text=True, check=True)
    return done.stdout


def main(data_dir: Path) -> None:
    portal(data_dir, "init", "--insecure-fast-kdf")
    portal(data_dir, "channel", "add", CHANNEL, "--description", "Internal audit")
    out = portal(data_dir, "officer", "add", "--email", "ana@agency.govt.nz", "--name", "Ana Officer",
                 "--channel", CHANNEL, "--passphrase-stdin", input="a long test passphrase\n")
    secret = out.strip().splitlines()[-1].removeprefix("totp: ")
    officer = finish_first_sign_in(data_dir, Officer("ana@agency.govt.nz", "Ana Officer",
                                                     "a long test passphrase", secret))
    app = create_app(data_dir)
    app.config["TESTING"] = True
    client = app.test_client()
    token = csrf_token(client.get("/disclose").text)
    response = post_multipart(client, "/disclose", disclosure_fields(token, DETAILS),
                              [("attachments", "evidence.pdf", EVIDENCE)])
    assert response.status_code == 200, response.text
    receipt_from(response.text)
    # Fold the write-ahead log into the database file so that one file holds it all.
    conn = sqlite3.connect(data_dir / "portal.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    print(f"passphrase: {officer.passphrase}")
    print(f"totp: {officer.totp_secret}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
