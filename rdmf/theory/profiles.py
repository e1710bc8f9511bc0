"""Per-profile settings of the theory notebooks (01, 02): only resolutions and demo lengths differ;
the science does not."""

from __future__ import annotations

from ..paths import check_profile

SETTINGS = {
    "ci": {"map_n": 250, "zoom_n": 250, "demo_L": 256, "demo_steps": 8000, "branch_n": 400},
    "default": {"map_n": 500, "zoom_n": 500, "demo_L": 256, "demo_steps": 12000, "branch_n": 800},
    "paper": {"map_n": 1000, "zoom_n": 1000, "demo_L": 512, "demo_steps": 20000, "branch_n": 2000},
}


def theory_settings(profile: str) -> dict:
    """The settings of ``profile`` (``ci``, ``default`` or ``paper``); ValueError otherwise."""
    return dict(SETTINGS[check_profile(profile)])
