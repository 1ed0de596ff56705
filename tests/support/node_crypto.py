"""Run static/seal/portal-crypto.js under node (v20, as /usr/bin/node) through the test driver
tests/browser_crypto/rpc.mjs: a list of calls in, a list of results out, in one process."""
from __future__ import annotations

import json
import subprocess

from tests.support import ROOT

NODE = "/usr/bin/node"
DRIVER = ROOT / "tests" / "browser_crypto" / "rpc.mjs"


def hexed(value):
    """Python values as the driver takes them: bytes become {"hex": ...}, recursively."""
    if isinstance(value, (bytes, bytearray)):
        return {"hex": bytes(value).hex()}
    if isinstance(value, (list, tuple)):
        return [hexed(v) for v in value]
    if isinstance(value, dict):
        return {k: hexed(v) for k, v in value.items()}
    return value


def unhexed(value):
    """The driver's results as Python values: {"hex": ...} becomes bytes, recursively."""
    if isinstance(value, dict):
        if set(value) == {"hex"}:
            return bytes.fromhex(value["hex"])
        return {k: unhexed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unhexed(v) for v in value]
    return value


def run_js(calls: list[tuple], *, jitless: bool = False, flags: tuple = (), timeout: float = 120,
           driver=DRIVER) -> list:
    """Results of [(function name, [args...]), ...] run in one node process, in order. A call
    that threw gives {"error": class name, "message": ...}. `flags` go to node as they are;
    `driver` is the .mjs that runs them (rpc.mjs, or hidden_rpc.mjs for hidden-details.js)."""
    flags = ["--jitless", *flags] if jitless else list(flags)
    request = json.dumps([{"fn": fn, "args": hexed(list(args))} for fn, args in calls])
    done = subprocess.run([NODE, *flags, str(driver)], input=request.encode(), capture_output=True,
                          timeout=timeout, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return unhexed(json.loads(done.stdout))


def js(fn: str, *args, jitless: bool = False):
    """One call's result."""
    return run_js([(fn, args)], jitless=jitless)[0]
