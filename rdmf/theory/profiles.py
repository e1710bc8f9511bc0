"""Per-profile settings of the theory notebooks (01, 02): only resolutions and demo lengths differ;
the science does not."""

from __future__ import annotations

from rdmf.profiles import profile_settings


def theory_settings(profile: str) -> dict:
    """The settings of ``profile`` (``ci``, ``default`` or ``paper``; :data:`rdmf.profiles.PROFILES`);
    ValueError otherwise."""
    return profile_settings(profile, "theory")
