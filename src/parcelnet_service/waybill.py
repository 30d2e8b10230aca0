"""Waybill numbers: ``PN`` + an 11-digit serial + one check digit (14 characters).

One number space for every carrier, as Cainiao's e-waybill has: the serial comes from the
database (the ``waybills`` table's key), so two requests never get the same number. The
check digit is Damm's (H. M. Damm, 2004): unlike the GS1 mod-10 digit of SSCC labels it
catches every single-digit error *and* every swap of two adjacent digits, the two errors
people make when they type a number from a label. Digits only, so Code 128 prints the
number in its compact numeric set.
"""

from __future__ import annotations

from parcelnet.errors import ParameterError

PREFIX = "PN"
SERIAL_DIGITS = 11

#: Damm's totally anti-symmetric quasigroup of order 10
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def check_digit(digits: str) -> int:
    """Damm's check digit of a string of decimal digits."""
    interim = 0
    for c in digits:
        interim = _DAMM[interim][int(c)]
    return interim


def waybill_number(serial: int) -> str:
    """The waybill number of a serial (1 .. 10^11 - 1)."""
    if not 0 < serial < 10 ** SERIAL_DIGITS:
        raise ParameterError(f"a waybill serial must be 1..{10 ** SERIAL_DIGITS - 1}, got {serial}")
    body = f"{serial:0{SERIAL_DIGITS}d}"
    return f"{PREFIX}{body}{check_digit(body)}"


def is_valid(number: str) -> bool:
    """Whether ``number`` has the form and a correct check digit (a typo is caught here,
    before any lookup)."""
    body = number[len(PREFIX):]
    return (number.startswith(PREFIX) and len(body) == SERIAL_DIGITS + 1 and body.isascii()
            and body.isdigit() and check_digit(body) == 0)
