"""Salesforce-style record ids: 15 case-sensitive characters plus a 3-character checksum.

A Salesforce id is a 3-character key prefix (``001`` accounts, ``005`` users, ``006``
opportunities), a 2-character instance, a reserved ``0`` and a 9-digit base-62 serial.
The 18-character form appends one character per 5-character chunk that encodes which
letters of the chunk are upper case, so the id survives case-insensitive tools.

>>> import numpy as np
>>> salesforce_ids("001", np.array([0, 61, 62]), instance="5g").to_list()
['0015g0000000000AAA', '0015g000000000zAAA', '0015g0000000010AAA']
>>> checksum_suffix("001A0000006Vm9r")
'IAC'
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

_BASE62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)
_SUFFIX = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", np.uint8)
_SERIAL_DIGITS = 9
MAX_SERIAL = 62**_SERIAL_DIGITS


def _base62(serials: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
    """Each serial as 9 base-62 digit characters, one row per serial."""
    out = np.empty((len(serials), _SERIAL_DIGITS), np.uint8)
    # Two uint32 halves divide much faster than one int64.
    low = (serials % 62**5).astype(np.uint32)
    high = (serials // 62**5).astype(np.uint32)
    for part, columns in ((low, range(8, 3, -1)), (high, range(3, -1, -1))):
        for column in columns:
            part, digit = np.divmod(part, np.uint32(62))
            out[:, column] = _BASE62[digit]
    return out


def _suffix(chars: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The 3 checksum characters for rows of 15 id characters."""
    upper = ((chars >= ord("A")) & (chars <= ord("Z"))).reshape(len(chars), 3, 5)
    bits = upper.astype(np.uint8) @ (1 << np.arange(5, dtype=np.uint8))
    return _SUFFIX[bits]


def salesforce_ids(
    prefix: str, serials: npt.NDArray[np.int64], *, instance: str = "5g"
) -> pl.Series:
    """18-character ids for ``serials`` (distinct serials give distinct ids)."""
    head = np.frombuffer((prefix + instance + "0").encode(), np.uint8)
    body = np.empty((len(serials), 15), np.uint8)
    body[:, :6] = head
    body[:, 6:] = _base62(np.asarray(serials, np.int64) % MAX_SERIAL)
    full = np.concatenate([body, _suffix(body)], axis=1)
    return pl.Series("id", full.view("S18").ravel()).cast(pl.String)


def checksum_suffix(id15: str) -> str:
    """The 3 checksum characters Salesforce appends to a 15-character id."""
    chars = np.frombuffer(id15.encode(), np.uint8)[None, :]
    return bytes(_suffix(chars)[0]).decode()


def random_serials(rng: np.random.Generator, n: int) -> npt.NDArray[np.int64]:
    """``n`` increasing, distinct serials with small random gaps, as records created over time."""
    start = int(rng.integers(10**12, 10**13))
    gaps = rng.integers(1, 8, size=n, dtype=np.int64)
    return start + np.cumsum(gaps)


__all__ = ["MAX_SERIAL", "checksum_suffix", "random_serials", "salesforce_ids"]
