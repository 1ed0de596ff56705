"""Paying for the disclosure and status forms as a client would (portal.guard.proofs).

With script: read the page's challenge and solve it the way static/proof.js does (SHA-256 hashcash),
here in Python. Without script: the page's ticket cookie, which the Flask test client keeps like a
browser does; `drop_ticket` makes a client that has only the proof of work."""
from __future__ import annotations

import hashlib
import re

CHALLENGE_RE = re.compile(r'name="pow_challenge" value="([^"]+)"')
LANE_RE = re.compile(r'name="pow_challenge" value="[^"]+"\s*data-lane-bits="(\d+)"')


def challenge_from(html: str) -> str:
    m = CHALLENGE_RE.search(html)
    assert m, "no proof-of-work challenge on the page"
    return m.group(1)


def bits_of(challenge: str) -> int:
    return int(challenge.split(".")[2])


def lane_bits_of(html: str) -> int:
    """The reserved lane's bits the page names under load (0: none)."""
    m = LANE_RE.search(html)
    return int(m.group(1)) if m else 0


def solve(challenge: str, lane: int = 0, below: int | None = None) -> str:
    """The smallest counter whose SHA-256(challenge ":" counter) has the leading zero bits asked
    (or the lane's, when the page names more, as its script goes), and fewer than `below` if given:
    the server counts the bits a solution reaches, so a cheap solution that happens to reach a
    higher price would pay it (1 in 2**(below - asked) of them)."""
    need, counter = max(bits_of(challenge), lane), 0
    while True:
        value = int.from_bytes(hashlib.sha256(f"{challenge}:{counter}".encode()).digest(), "big")
        reached = 256 - value.bit_length()
        if reached >= need and (below is None or reached < below):
            return str(counter)
        counter += 1


def solved(html: str, below: int | None = None) -> list[tuple[str, str]]:
    """The two fields the page's script fills in (reaching fewer than `below` bits, if given)."""
    challenge = challenge_from(html)
    solution = solve(challenge, lane_bits_of(html), below)
    return [("pow_challenge", challenge), ("pow_solution", solution)]


def ticket_name(purpose: str) -> str:
    return f"__Host-pd_ticket_{purpose}"


def ticket_cookie(client, purpose: str):
    return client.get_cookie(ticket_name(purpose))


def drop_ticket(client, purpose: str) -> None:
    client.delete_cookie(ticket_name(purpose))
