"""Waybill numbers and their Damm check digit, against the published example and an
independent definition (the quasigroup's anti-symmetry, checked exhaustively)."""

from __future__ import annotations

import itertools
import random

import pytest

from parcelnet.errors import ParameterError
from parcelnet_service.waybill import _DAMM, check_digit, is_valid, waybill_number


def test_the_published_example():
    # Damm (2004) / the usual worked example: 572 -> 4, and 5724 checks to 0
    assert check_digit("572") == 4
    assert check_digit("5724") == 0


def test_the_table_is_a_totally_anti_symmetric_quasigroup():
    """What makes the digit catch every adjacent swap: (c*x)*y == (c*y)*x only when x == y."""
    for row in _DAMM:
        assert sorted(row) == list(range(10))
    for col in range(10):
        assert sorted(r[col] for r in _DAMM) == list(range(10))
    for c, x, y in itertools.product(range(10), repeat=3):
        if x != y:
            assert _DAMM[_DAMM[c][x]][y] != _DAMM[_DAMM[c][y]][x]


def test_numbers_have_the_form_and_catch_typos():
    rng = random.Random(5)
    for _ in range(300):
        n = waybill_number(rng.randrange(1, 10 ** 11))
        assert len(n) == 14 and n.startswith("PN") and is_valid(n)
        digits = list(n[2:])
        i = rng.randrange(12)
        wrong = digits.copy()
        wrong[i] = str((int(wrong[i]) + rng.randrange(1, 10)) % 10)
        assert not is_valid("PN" + "".join(wrong))                   # any single-digit error
        j = rng.randrange(11)
        if digits[j] != digits[j + 1]:
            swapped = digits.copy()
            swapped[j], swapped[j + 1] = swapped[j + 1], swapped[j]
            assert not is_valid("PN" + "".join(swapped))             # any adjacent swap


def test_bad_serials_and_strings():
    with pytest.raises(ParameterError):
        waybill_number(0)
    with pytest.raises(ParameterError):
        waybill_number(10 ** 11)
    for s in ("", "PN", "PN00000000001", "XX000000000013", "PN0000000000１3", "PN00000000001a"):
        assert not is_valid(s)
