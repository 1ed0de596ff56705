"""The free-space floor on a real small disk (issue 24 item 2): a tmpfs mounted by the test holds the
data directory. A disclosure whose file would cross the floor, as it arrives or by what its
Content-Length says, gets 503 with Retry-After, its text back, a plain word that its files were not
kept, and leaves no case, no .part and no blob; the answer reaches the client still sending."""
from __future__ import annotations

import os
import shutil
import time

import pytest

from portal.core.context import open_context
from tests.guard.served_uploads import send_upload
from tests.support.disks import small_tmpfs
from tests.support import start_server
from tests.support import database

pytestmark = pytest.mark.sqlite_only(reason="the blob files on the data directory's own small disk;"
                                 " on PostgreSQL the blobs are on the server's disk")

pytestmark = pytest.mark.slow

MiB = 1024 * 1024


@pytest.fixture
def small_disk(installation, tmp_path):
    """The installation's data directory copied onto a 64 MiB tmpfs."""
    with small_tmpfs(tmp_path / "disk", 64) as mount:
        data_dir = mount / "data"
        shutil.copytree(installation.data_dir, data_dir, symlinks=True)
        yield data_dir


def serve_with_floor(data_dir, room: int):
    """`portal serve` with the floor set `room` bytes below the free space now."""
    floor = shutil.disk_usage(data_dir).free - room
    return start_server(data_dir, workers=1, env={"PORTAL_FREE_SPACE_FLOOR_BYTES": str(floor)})


def cases(data_dir) -> int:
    return open_context(data_dir).db.execute("SELECT COUNT(*) FROM cases").fetchone()[0]


def assert_refused_and_nothing_kept(sending, data_dir, text: str, filename: str) -> None:
    assert sending.read_error == "" and sending.send_error == ""
    assert sending.sent == len(sending.body)  # it sent all it declared, and still got the page
    assert sending.status == 503 and int(sending.headers["retry-after"]) > 0
    assert text in sending.page
    assert "your files were not kept" in sending.page and filename in sending.page
    assert cases(data_dir) == 0
    assert database.blobs(data_dir) == []


def test_a_file_that_crosses_the_floor_as_it_arrives_is_dropped_and_the_text_comes_back(small_disk):
    server = serve_with_floor(small_disk, 16 * MiB)
    try:
        sending = send_upload(server.port, "Text typed before the disk filled",
                              [("attachments", "evidence.bin", os.urandom(8 * MiB))],
                              rate=2 * MiB)
        blobs = small_disk / "blobs"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(p.suffix == ".part" for p in blobs.iterdir()):
            time.sleep(0.02)
        assert any(p.suffix == ".part" for p in blobs.iterdir())
        # Something else takes most of the room left while the file is arriving.
        (small_disk.parent / "filler").write_bytes(b"\0" * (12 * MiB))
        sending.wait(60)
        assert_refused_and_nothing_kept(sending, small_disk, "Text typed before the disk filled",
                                        "evidence.bin")
        # Room again: the same portal takes a disclosure.
        (small_disk.parent / "filler").unlink()
        ok = send_upload(server.port, "Sent once there was room",
                         [("attachments", "small.bin", os.urandom(MiB))], rate=8 * MiB).wait(60)
        assert ok.status == 200 and 'id="receipt"' in ok.page
    finally:
        server.stop()


def test_a_content_length_that_alone_crosses_the_floor_is_refused_before_its_file_is_read(small_disk):
    server = serve_with_floor(small_disk, 4 * MiB)
    try:
        blobs = small_disk / "blobs"
        sending = send_upload(server.port, "Text typed with a large file",
                              [("attachments", "large.bin", os.urandom(8 * MiB))], rate=2 * MiB)
        seen_part = False
        while sending.status == 0 and sending.read_error == "":
            seen_part = seen_part or any(p.suffix == ".part" for p in blobs.iterdir())
            time.sleep(0.01)
        assert sending.sent < len(sending.body)  # answered before the file arrived
        assert not seen_part  # no byte of the file was written
        sending.wait(60)
        assert_refused_and_nothing_kept(sending, small_disk, "Text typed with a large file",
                                        "large.bin")
    finally:
        server.stop()
