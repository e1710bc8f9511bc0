"""Generator v5: moments that no single clip can tell apart.

Checked on planned videos (no features needed, fast): every sequence video holds its ordered
pair "A, then B" as one moment, and A alone, B alone elsewhere (some also "B, then A"); flashes
are isolated single clips of a queried event outside every event scene; occlusions of 3-8
clips lie inside event scenes and are labelled relevant; the query type is recorded."""

from __future__ import annotations

import numpy as np
import pytest

from rdmf.data import synth


@pytest.fixture(scope="module")
def plans():
    return synth._plan_split("val", 400, 0, synth.resolve_params())


def _event_runs(plan):
    return [sc for sc in plan["scenes"] if sc["kind"] in ("moment", "repeat")]


def test_both_query_types_occur_in_the_planned_proportion(plans):
    types = [p["query_type"] for p in plans]
    share = types.count("sequence") / len(types)
    assert set(types) == set(synth.QUERY_TYPES)
    assert abs(share - synth.DEFAULT_PARAMS["sequence_prob"]) < 0.08


def test_a_sequence_moment_is_A_then_B_and_both_also_occur_apart(plans):
    reversed_pairs = 0
    for plan in (p for p in plans if p["query_type"] == "sequence"):
        moment = [sc for sc in plan["scenes"] if sc["kind"] == "moment"]
        assert [sc["role"] for sc in moment] == [0, 1]
        assert moment[0]["end"] == moment[1]["start"]            # adjacent: one moment
        assert moment[0]["event"] == plan["events"][0] and moment[1]["event"] == plan["events"][1]
        repeats = [sc for sc in plan["scenes"] if sc["kind"] == "repeat"]
        assert {sc["role"] for sc in repeats} == {0, 1}          # A alone and B alone
        reversed_pairs += any(a["role"] == 1 and b["role"] == 0 and a["end"] == b["start"]
                              for a, b in zip(repeats, repeats[1:]))
        row = synth.annotation_row(plan, np.ones(plan["n_clips"]), np.random.default_rng(0))
        assert row["relevant_windows"] == [[moment[0]["start"] * 2.0, moment[1]["end"] * 2.0]]
    n_seq = sum(p["query_type"] == "sequence" for p in plans)
    assert 0.3 < reversed_pairs / n_seq < 0.7                    # reverse_prob 0.5


def test_single_queries_have_no_repeats_and_their_moments_are_the_event(plans):
    for plan in (p for p in plans if p["query_type"] == "single"):
        assert all(sc["kind"] != "repeat" for sc in plan["scenes"])
        for sc in plan["scenes"]:
            if sc["kind"] == "moment":
                assert sc["event"] == plan["events"][0]


def test_flashes_are_isolated_single_clips_away_from_event_scenes(plans):
    gap = synth.DEFAULT_PARAMS["flash_min_gap"]
    n = 0
    for plan in plans:
        events = _event_runs(plan)
        clips = [f["clip"] for f in plan["flashes"]]
        n += len(clips)
        for f in plan["flashes"]:
            assert all(f["clip"] < sc["start"] - gap + 1 or f["clip"] >= sc["end"] + gap
                       for sc in events)
            assert f["caption"] == synth.caption(tuple(plan["events"][f["role"]]))
        assert all(b - a > gap for a, b in zip(clips, clips[1:]))
    assert n / len(plans) > 1.0   # flash_rate 2 (fewer where a video has no room)


def test_occlusions_are_3_to_8_clips_inside_event_scenes_and_labelled_relevant(plans):
    lengths = []
    for plan in plans:
        for sc in _event_runs(plan):
            if sc.get("occlusion"):
                o0, o1 = sc["occlusion"]
                assert sc["start"] + 2 <= o0 < o1 <= sc["end"] - 2
                lengths.append(o1 - o0)
    assert min(lengths) >= 3 and max(lengths) <= 8 and len(lengths) > 50
    # features: occluded clips carry no evidence, yet are relevant in the annotation
    plans_f, feats, strengths, _ = synth.generate_in_memory("val", 30, seed=0)
    checked = 0
    for plan, a in zip(plans_f, strengths):
        row = synth.annotation_row(plan, a, np.random.default_rng(0))
        for sc in plan["scenes"]:
            if sc["kind"] == "moment" and sc.get("occlusion"):
                o0, o1 = sc["occlusion"]
                assert set(range(o0, o1)) <= set(row["relevant_clip_ids"])
                assert np.all(a[o0:o1] > 0)            # labelled by the moment (context)
                checked += 1
    assert checked > 0


def test_the_settings_hash_changes_with_any_default_knob(monkeypatch):
    before = synth.settings_hash()
    monkeypatch.setitem(synth.DEFAULT_PARAMS, "flash_rate", 3.0)
    assert synth.settings_hash() != before


def test_query_sentences_name_the_order(plans):
    for plan in (p for p in plans if p["query_type"] == "sequence"):
        assert "then" in plan["query"] or "after that" in plan["query"]
