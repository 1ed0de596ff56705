"""Stream encryption: the portal's encrypt_stream against raw secretstream push, same run.

Since issue 26 the portal pads each file (Padme, SECURITY.md "Padded sizes"), so the baseline pushes
the padded length, padded_length(size) bytes: the ratio is the cost of the portal's code, not of the
padding; the padding's own cost is printed beside it as raw secretstream of the padded length
against raw secretstream of the file's length (size / padded_length(size) at best).

Prints the throughput ratio (target >= 0.9; measured in CPU time, wall clock beside it) and the peak memory of a child process encrypting
256 MiB and 1 GiB (target < 64 MiB at both). BENCH_BYTES overrides the 1 GiB for quick runs
(the memory sizes then become BENCH_BYTES/4 and BENCH_BYTES).
"""
from __future__ import annotations

import io
import os
import random
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import nacl.bindings as b  # noqa: E402

from crypto import CHUNK_SIZE, StreamEncryptor, encrypt_stream, padded_length  # noqa: E402

MiB = 1024 * 1024
BLOCK = 1 * MiB
ROUNDS = 5  # interleaved rounds; the best of each side is compared


class RepeatingSource(io.RawIOBase):
    """`size` bytes made of one random 1 MiB block repeated; never holds more than that block.
    Chunk-aligned reads return pre-cut bytes objects, so both contenders pay the same, small cost."""

    def __init__(self, size: int, block: bytes):
        self._size, self._pos, self._block = size, 0, block
        self._cuts = {i: block[i : i + CHUNK_SIZE] for i in range(0, len(block), CHUNK_SIZE)}

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        left = self._size - self._pos
        if n < 0 or n > left:
            n = left
        if n <= 0:
            return b""
        off = self._pos % len(self._block)
        self._pos += n
        if n == CHUNK_SIZE and off in self._cuts:
            return self._cuts[off]
        out = bytearray()
        while len(out) < n:
            take = min(n - len(out), len(self._block) - off)
            out += self._block[off : off + take]
            off = 0
        return bytes(out)

    def view(self, n: int) -> memoryview:
        """Up to n bytes as a zero-copy view (never across the block end); empty at the end."""
        off = self._pos % len(self._block)
        n = min(n, self._size - self._pos, len(self._block) - off)
        self._pos += n
        return memoryview(self._block)[off : off + n]


class NullSink:
    """Discards writes, counting bytes, so the sink costs the same for both contenders."""

    def __init__(self):
        self.count = 0

    def write(self, data) -> int:
        self.count += len(data)
        return len(data)


def raw_push(key: bytes, source, sink) -> None:
    state = b.crypto_secretstream_xchacha20poly1305_state()
    sink.write(b.crypto_secretstream_xchacha20poly1305_init_push(state, key))
    push, read, write = b.crypto_secretstream_xchacha20poly1305_push, source.read, sink.write
    while True:
        chunk = read(CHUNK_SIZE)
        if not chunk:
            break
        write(push(state, chunk))


def portal(key: bytes, source, sink) -> None:
    encrypt_stream(key, source, sink, b"bench-ad")


def portal_writer(key: bytes, source, sink) -> None:
    enc = StreamEncryptor(key, sink, b"bench-ad")
    for chunk in iter(lambda: source.read(CHUNK_SIZE), b""):
        enc.write(chunk)
    enc.close()


def portal_writer_random(key: bytes, source, sink) -> None:
    """Pieces of random size (1 B to 256 KiB), as a streaming multipart parser hands them over."""
    enc = StreamEncryptor(key, sink, b"bench-ad")
    rng = random.Random(7)
    while piece := source.view(rng.randint(1, 256 * 1024)):
        enc.write(piece)
    enc.close()


def timed(fn, key, size, block) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process). CPU time is what other load on a shared
    machine disturbs least, so the headline ratio uses it; wall clock is printed beside it."""
    src, sink = RepeatingSource(size, block), NullSink()
    w, c = time.perf_counter(), time.process_time()
    fn(key, src, sink)
    return time.perf_counter() - w, time.process_time() - c


def child(size: int) -> None:
    block = os.urandom(BLOCK)
    encrypt_stream(os.urandom(32), RepeatingSource(size, block), NullSink(), b"bench-ad")
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


def peak_rss_mib(size: int) -> float:
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", str(size)],
        check=True, capture_output=True, text=True,
    ).stdout
    return int(out.split()[-1]) / 1024


def main() -> None:
    size = int(os.environ.get("BENCH_BYTES", 1024 * MiB))
    key, block = os.urandom(32), os.urandom(BLOCK)
    gib = size / (1024 * MiB)
    print(f"bench_stream: {size / MiB:.0f} MiB per pass, {CHUNK_SIZE // 1024} KiB chunks, best of {ROUNDS}")

    contenders = {"raw": raw_push, "portal": portal, "writer": portal_writer, "writer-random": portal_writer_random,
                  "raw-unpadded": raw_push}
    # raw: secretstream of the padded length, what the portal writes; raw-unpadded: of the file alone
    lengths = {name: size for name in contenders} | {"raw": padded_length(size)}
    wall = {name: float("inf") for name in contenders}
    cpu = dict(wall)
    for _ in range(ROUNDS):
        for name, fn in contenders.items():  # interleaved, so drift affects every contender alike
            w, c = timed(fn, key, lengths[name], block)
            wall[name], cpu[name] = min(wall[name], w), min(cpu[name], c)
    for name in contenders:
        print(f"  {name:14s} {size / MiB / cpu[name]:8.1f} MiB/s CPU, {size / MiB / wall[name]:8.1f} MiB/s wall"
              f"  ({wall[name]:.2f} s for {gib:.2f} GiB)")

    ratio, wall_ratio = cpu["raw"] / cpu["portal"], wall["raw"] / wall["portal"]
    print(f"stream encrypt throughput ratio vs raw secretstream: {ratio:.2f} (target >= 0.9)"
          f"{'' if ratio >= 0.9 else '  MISSED'}  [CPU time; wall clock {wall_ratio:.2f}]")
    print(f"padding's own cost: raw secretstream of the padded length ({padded_length(size)} bytes) vs of the"
          f" file's {size}: {cpu['raw-unpadded'] / cpu['raw']:.2f} (informational; expected about"
          f" {size / padded_length(size):.3f})")
    for name, label in (("writer", "64 KiB writes"), ("writer-random", "writes of 1 B..256 KiB")):
        print(f"StreamEncryptor ({label}) ratio vs raw secretstream: {cpu['raw'] / cpu[name]:.2f}"
              f" (informational; wall clock {wall['raw'] / wall[name]:.2f})")

    for n in (size // 4, size):
        rss = peak_rss_mib(n)
        print(f"peak memory (ru_maxrss, child encrypting {n / MiB:.0f} MiB): {rss:.1f} MiB (target < 64 MiB)"
              f"{'' if rss < 64 else '  MISSED'}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(int(sys.argv[2]))
    else:
        main()
