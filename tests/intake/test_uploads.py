"""The streaming multipart reader on its own: limits, repeated fields, and bodies cut short."""
from __future__ import annotations

import io

import pytest

from portal.intake.uploads import Limits, MalformedForm, RepeatedField, TooLarge, read_multipart
from tests.support import multipart

LIMITS = Limits(text_bytes=1000, file_bytes=10_000, total_bytes=50_000)


class Sink:
    def __init__(self, filename):
        self.data = b""
        self.filename = filename
        self.finished = None

    def write(self, data):
        self.data += data

    def finish(self, content_type):
        self.finished = self.filename


def read(body, content_type, sinks, limits=LIMITS):
    def open_sink(filename):
        sinks.append(Sink(filename))
        return sinks[-1]
    return read_multipart(io.BytesIO(body), content_type, text_fields=["a", "b"], file_fields=["f"],
                          open_sink=open_sink, limits=limits, repeatable=("b",))


def test_fields_repeat_and_files_stream_to_their_own_sinks():
    body, ct = multipart([("a", "one"), ("b", "x"), ("b", "y"), ("ignored", "z")],
                         [("f", "1.txt", b"first"), ("f", "2.txt", b"second")])
    sinks = []
    fields = read(body, ct, sinks)
    assert fields.getlist("b") == ["x", "y"] and fields["a"] == "one" and "ignored" not in fields
    assert [(s.finished, s.data) for s in sinks] == [("1.txt", b"first"), ("2.txt", b"second")]


def test_a_text_field_sent_twice_is_refused_unless_it_may_repeat():
    body, ct = multipart([("a", "one"), ("a", "two")])
    with pytest.raises(RepeatedField):
        read(body, ct, [])


def test_the_text_budget_is_one_per_request_across_all_parts():
    # Each part is within the budget alone; together they are over it.
    body, ct = multipart([("a", "x" * 600), ("b", "y" * 300), ("b", "z" * 300)])
    with pytest.raises(TooLarge) as caught:
        read(body, ct, [])
    assert caught.value.what == "The text of this form"


def test_more_files_than_allowed_are_refused_as_the_next_one_starts():
    body, ct = multipart([], [("f", f"{i}.txt", b"x") for i in range(4)])
    sinks = []
    with pytest.raises(TooLarge) as caught:
        read(body, ct, sinks, Limits(text_bytes=1000, file_bytes=10_000, total_bytes=50_000, max_files=3))
    assert len(sinks) == 3 and "number of files" in caught.value.what


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9, 0.999])
def test_a_body_cut_short_is_refused(cut):
    body, ct = multipart([("a", "one")], [("f", "1.txt", b"x" * 5000)])
    with pytest.raises(MalformedForm):
        read(body[: int(len(body) * cut)], ct, [])


def test_a_body_cut_just_after_a_whole_part_is_refused():
    body, ct = multipart([("a", "one")], [("f", "1.txt", b"x" * 5000)])
    whole_part = body[: body.rindex(b"\r\n--") + 2]  # everything but the closing boundary
    with pytest.raises(MalformedForm):
        read(whole_part, ct, [])


def test_limits_per_file_per_field_and_per_submission():
    body, ct = multipart([], [("f", "big", b"x" * 10_001)])
    with pytest.raises(TooLarge):
        read(body, ct, [])
    body, ct = multipart([("a", "y" * 1001)])
    with pytest.raises(TooLarge):
        read(body, ct, [])
    body, ct = multipart([("a", "typed first")], [("f", str(i), b"x" * 9000) for i in range(6)])
    with pytest.raises(TooLarge) as caught:
        read(body, ct, [])
    assert caught.value.fields["a"] == "typed first"


def test_not_multipart_is_refused():
    with pytest.raises(MalformedForm):
        read(b"a=1", "application/x-www-form-urlencoded", [])
