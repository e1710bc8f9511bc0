"""Report writing: rounded JSON, and results that need the real data kept by a run without it."""

from __future__ import annotations

import json

from rdmf.reports import keep_without_data, round_significant, write_report_json


def test_rounding_hides_last_digit_noise_and_keeps_small_values():
    a, b = 0.1 + 0.2, 0.3  # differ in the last binary digit
    assert a != b and round_significant(a) == round_significant(b) == 0.3
    assert round_significant(1.23456789e-7) == 1.23457e-7  # significant, not decimal, digits
    nested = {"x": [2.0 / 3.0, {"y": 12345.678}], "n": 3, "s": "a", "nan": float("nan")}
    out = round_significant(nested)
    assert out["x"] == [0.666667, {"y": 12345.7}] and out["n"] == 3 and out["s"] == "a"
    assert out["nan"] != out["nan"]


def test_report_json_is_byte_stable(tmp_path):
    write_report_json(tmp_path / "a.json", {"v": 0.1 + 0.2})
    write_report_json(tmp_path / "b.json", {"v": 0.3})
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert json.loads((tmp_path / "a.json").read_text()) == {"v": 0.3}


def test_keep_without_data(tmp_path, capsys):
    path = tmp_path / "real.png"
    assert not keep_without_data(path, have_data=False)  # nothing to keep yet
    path.write_bytes(b"made with data")
    assert not keep_without_data(path, have_data=True)  # with the data: regenerate
    assert keep_without_data(path, have_data=False)
    assert "kept" in capsys.readouterr().out and path.read_bytes() == b"made with data"


def test_the_ci_profile_is_scratch(tmp_path, capsys):
    """Nothing under the git-ignored ci reports is kept: what a notebook prints there never
    depends on what an earlier run left behind."""
    path = tmp_path / "figure.png"
    path.write_bytes(b"left by an earlier run")
    assert not keep_without_data(path, have_data=False, profile="ci")
    assert keep_without_data(path, have_data=False, profile="default")
