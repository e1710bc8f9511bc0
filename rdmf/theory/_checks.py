"""Input checks and the exact-number rule shared by the theory modules.

The rule for floats: a Python/NumPy float is read as the decimal number its ``repr`` shows (the
shortest decimal that round-trips), so ``0.04`` means exactly 1/25. Existence questions (is the
discriminant of the steady-state quadratic negative, zero or positive?) are then decided in exact
rational arithmetic. That is what finds the double root at (F, k) = (0.04, 0.06), where the
discriminant evaluated in floats is −2e−16.
"""

from __future__ import annotations

import math
from fractions import Fraction
from numbers import Real

import numpy as np
import sympy as sp


def is_symbolic(*values) -> bool:
    """True when any value is a SymPy object (symbol, expression or exact SymPy number)."""
    return any(isinstance(x, sp.Basic) for x in values)


def has_free_symbols(*values) -> bool:
    return any(isinstance(x, sp.Basic) and x.free_symbols for x in values)


def check_scalar(value, name: str, *, positive: bool = False, allow_symbol: bool = True):
    """Validate one kinetic parameter and return it (floats for numbers, SymPy kept as is).

    Raises ``ValueError`` naming ``name`` and the valid range when ``value`` is negative,
    non-finite, zero where it must be positive, or not a number.
    """
    valid = "> 0" if positive else ">= 0"
    if isinstance(value, sp.Basic):
        if value.free_symbols:
            if not allow_symbol:
                raise ValueError(f"{name} must be a number here, got the expression {value}")
            return value
        if not value.is_real or not value.is_finite:
            raise ValueError(f"{name} must be a finite real number {valid}, got {value}")
        if value < 0 or (positive and value == 0):
            raise ValueError(f"{name} must be finite and {valid}, got {value}")
        return value
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise ValueError(f"{name} must be a real number {valid}, got {value!r}")
    x = float(value)
    if not math.isfinite(x) or x < 0 or (positive and x == 0):
        raise ValueError(f"{name} must be finite and {valid}, got {value!r}")
    return x


def check_array(values, name: str, *, positive: bool = False) -> np.ndarray:
    """Vectorised :func:`check_scalar` for NumPy inputs: returns a float64 array."""
    arr = np.asarray(values, dtype=float)
    valid = "> 0" if positive else ">= 0"
    bad = ~np.isfinite(arr) | (arr < 0) | ((arr == 0) if positive else False)
    if np.any(bad):
        first = arr[bad].flat[0]
        raise ValueError(f"{name} must be finite and {valid} everywhere, got {first!r}")
    return arr


def exact(value) -> Fraction:
    """The exact rational a number stands for: SymPy rationals as they are, floats by their repr."""
    if isinstance(value, sp.Rational):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, sp.Basic):  # an exact irrational SymPy number: use 30 digits
        return Fraction(str(sp.N(value, 30)))
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    return Fraction(repr(float(value)))
