"""The error for a NaN or inf where a finite number is required (model state, matching cost,
loss, gradient). A dedicated type, so that callers recognise it without reading its text."""

from __future__ import annotations


class NonFiniteError(ValueError, FloatingPointError):
    """A value that must be finite is NaN or inf."""
