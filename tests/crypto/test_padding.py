"""Padded sizes (crypto/padding.py): the rule's properties; its values are the vectors in SECURITY.md."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import DecryptionError, padded_length, padme
from crypto.padding import BUCKETS, pad, unpad

PROPS = settings(max_examples=300, deadline=None)


@PROPS
@given(n=st.integers(0, 2**40))
def test_padded_length_holds_the_marker_and_costs_at_most_twelve_percent_beyond_the_buckets(n):
    p = padded_length(n)
    assert p >= n + 1
    if n + 1 > BUCKETS[-1]:
        assert p <= (n + 1) * 1.12
        assert padded_length(p - 1) == p  # a padded length is a fixed point: it names its bucket
    else:
        assert p in BUCKETS


@PROPS
@given(a=st.integers(0, 2**34), b=st.integers(0, 2**34))
def test_padded_length_is_monotonic(a, b):
    if a <= b:
        assert padded_length(a) <= padded_length(b)


def test_padme_leaves_few_bits_of_the_length():
    # Between 2**20 and 2**21 every length pads to one of 2**(20 - 5) steps' multiples: 32 sizes.
    sizes = {padme(n) for n in range(2**20, 2**21, 97)}
    assert len(sizes) <= 33 and padme(2**20) == 2**20


@PROPS
@given(data=st.binary(max_size=9000))
def test_pad_and_unpad(data):
    padded = pad(data)
    assert len(padded) == padded_length(len(data))
    assert unpad(padded, "x") == data


@pytest.mark.parametrize("bad", [b"", bytes(64), b"abc" + bytes(61), b"\x80\x01" + bytes(62)])
def test_bad_padding_is_refused(bad):
    with pytest.raises(DecryptionError):
        unpad(bad, "x")
