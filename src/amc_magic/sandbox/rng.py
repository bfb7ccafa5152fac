"""Counter-based random numbers: every value is a hash of the seed and the keys that name it.

The synthetic data must not depend on the order or the date it is generated in, so nothing draws
from a stream. A value is ``mix(seed, stream, *keys)`` where ``mix`` is SplitMix64's finaliser applied
key by key; the same seed and keys give the same bits on every machine and NumPy version (only
wrapping integer arithmetic is used). Callers hash a row's identity once (:meth:`KeyedRandom.row`)
and derive each of the row's values from it with a field number (:func:`uniform`, :func:`bits`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53
_MASK = 0xFFFFFFFFFFFFFFFF


def _mix(z: U64) -> U64:
    """SplitMix64's finaliser, a bijection on 64-bit integers with good avalanche (updates ``z``)."""
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= _M1
        z ^= z >> np.uint64(27)
        z *= _M2
        z ^= z >> np.uint64(31)
    return z


def _absorb(h: U64, key: npt.ArrayLike) -> U64:
    """``mix(h + golden + key)`` with wrapping arithmetic: ``h`` with one more key hashed in."""
    key = np.asarray(key)
    with np.errstate(over="ignore"):
        if key.ndim == 0:
            z = h + np.uint64((int(key) + int(_GOLDEN)) & _MASK)
        else:
            z = key.astype(np.uint64)  # a copy, so _mix may update it in place
            z += h
            z += _GOLDEN
    return _mix(z)


class KeyedRandom:
    """Random values keyed by ``(seed, stream, *keys)``."""

    def __init__(self, seed: int) -> None:
        self._seed = _mix(np.array([seed & _MASK], dtype=np.uint64))[0]

    def row(self, stream: int, *keys: npt.ArrayLike) -> U64:
        """One 64-bit hash per row; ``keys`` are equal-length integer arrays (or scalars)."""
        h = np.broadcast_to(_absorb(np.array([self._seed]), stream), np.broadcast(*keys).shape).copy()
        for key in keys:
            h = _absorb(h, key)
        return h


def bits(row: U64, field: int) -> U64:
    """Field ``field`` of each row as 64 random bits."""
    return _absorb(row, field)


def uniform(row: U64, field: int) -> F64:
    """Field ``field`` of each row as a float in [0, 1)."""
    return (bits(row, field) >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def below(row: U64, field: int, n: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Field ``field`` of each row as an integer in [0, n)."""
    return np.floor(uniform(row, field) * np.asarray(n)).astype(np.int64)


def weighted(row: U64, field: int, weights: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Field ``field`` of each row as an index drawn with the given (unnormalised) weights."""
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
    picks = np.searchsorted(cumulative, uniform(row, field) * cumulative[-1], side="right")
    return np.minimum(picks, len(cumulative) - 1).astype(np.int64)
