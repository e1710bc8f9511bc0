"""Bad input to the data commands (``rdmf data synth / prepare / verify / stats``) and readers.

Each case builds a tiny data root (or output folder) in ``tmp_path``, breaks one thing, runs the
command in-process and asserts: exit 2, one stderr line naming the file (or option) and the field,
and, by content hashes, that no file that existed before was changed or removed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from badinput import assert_one_line_error, assert_unchanged, run, snapshot

from rdmf.data import synth

DEEP = "[" * 100_000 + "]" * 100_000


# ------------------------------------------------------------------ tiny data roots
def _qvh_row(qid=1, vid="v1", duration=20, windows=((2, 8),)):
    ids = sorted({i for s, e in windows for i in range(int(s // 2), int(e // 2))})
    return {"qid": qid, "query": "a man rides a bike", "vid": vid, "duration": duration,
            "relevant_windows": [list(w) for w in windows], "relevant_clip_ids": ids,
            "saliency_scores": [[4, 3, 2]] * len(ids)}


def _write_qvh(root: Path, rows: list[dict], lengths=None) -> Path:
    """``root/qvhighlights`` in the Moment-DETR layout (val split only); ``lengths`` maps a vid to
    its (slowfast, clip) feature lengths (default: duration / 2 each)."""
    qvh = root / "qvhighlights"
    rng = np.random.default_rng(0)
    dirs = {name: qvh / "features" / name
            for name in ("slowfast_features", "clip_features", "clip_text_features")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    (qvh / "annotations").mkdir(parents=True, exist_ok=True)
    (qvh / "annotations" / "highlight_val_release.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in rows))
    for row in rows:
        vid = str(row["vid"])
        if "/" in vid + str(row["qid"]):
            continue  # the reader must refuse these ids before it looks for their files
        duration = row["duration"] if isinstance(row["duration"], (int, float)) else 20
        n = (lengths or {}).get(vid, (int(duration // 2),) * 2)
        for (name, d), L, dim in zip(dirs.items(), n, (8, 4)):
            np.savez(d / f"{vid}.npz", features=rng.standard_normal((L, dim)).astype(np.float32))
        np.savez(dirs["clip_text_features"] / f"qid{row['qid']}.npz",
                 last_hidden_state=rng.standard_normal((5, 6)).astype(np.float32))
    return root


def _write_tvsum(root: Path, *, ids=("BK0", "BK1"), lengths=None) -> Path:
    """``root/tvsum`` in the UMT layout: domain BK, the last id is the val video."""
    tv = root / "tvsum"
    (tv / "video_features").mkdir(parents=True, exist_ok=True)
    (tv / "query_features").mkdir(exist_ok=True)
    rng = np.random.default_rng(1)
    anno = {}
    for vid in ids:
        L_rgb, L_opt = (lengths or {}).get(vid, (6, 6))
        anno[vid] = {"domain": "BK", "title": f"title {vid}",
                     "anno": rng.integers(1, 6, (L_rgb, 20)).tolist()}
        np.save(tv / "video_features" / f"{vid}_rgb.npy", rng.standard_normal((L_rgb, 16)))
        np.save(tv / "video_features" / f"{vid}_opt.npy", rng.standard_normal((L_opt, 16)))
        np.savez(tv / "query_features" / f"{vid}.npz", token=rng.standard_normal((5, 12)))
    (tv / "tvsum_anno.json").write_text(json.dumps(anno))
    (tv / "tvsum_splits_UMT.json").write_text(json.dumps(
        {"BK": {"train": list(ids[:-1]), "val": [ids[-1]]}}))
    return root


def _write_youtube(root: Path) -> Path:
    yt = root / "youtube_highlights"
    (yt / "video_features").mkdir(parents=True)
    clips = [[50.0 * i, 50.0 * i + 100.0] for i in range(5)]
    (yt / "youtube_anno.json").write_text(json.dumps(
        {"a": {"domain": "dog", "fps": 25.0, "frames": "300", "clip": clips,
               "match": [-1, 0, 1, 1, -1]}}))
    (yt / "youtube_splits.json").write_text(json.dumps({"dog": {"train": [], "val": ["a"]}}))
    np.save(yt / "video_features" / "a_rgb.npy", np.ones((5, 8)))
    np.save(yt / "video_features" / "a_opt.npy", np.ones((4, 8)))
    return root


def _prepare(dataset, root, out, *extra):
    return ["data", "prepare", "--dataset", dataset, "--split", "val", "--data-root", root,
            "--out", out, "--no-progress", *extra]


# ------------------------------------------------------------------ reader cases
def _qvh_case(rows=None, lengths=None, edit=None):
    """A case on the QVHighlights reader: ``edit(root)`` breaks the tiny root after writing."""
    def build(tmp):
        root = _write_qvh(tmp / "root", rows or [_qvh_row()], lengths)
        if edit:
            edit(root / "qvhighlights")
        return _prepare("qvhighlights", root, tmp / "out" / "val.h5"), [root]
    return build


def _row_with(**fields):
    row = _qvh_row()
    row.update(fields)
    return [row]


def _cut_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _npy_inside_npz(path: Path) -> None:
    with open(path, "wb") as handle:
        np.save(handle, np.ones((10, 8), np.float32))


def _append_bytes(name: str, data: bytes):
    def edit(qvh: Path) -> None:
        with open(qvh / "annotations" / name, "ab") as handle:
            handle.write(data)
    return edit


SLOWFAST_V1 = "features/slowfast_features/v1.npz"
READER_CASES = {
    # relevant clips outside the video, and beyond the features of a shorter video
    "clip-id-outside-duration": (_qvh_case(_row_with(relevant_clip_ids=[1, 50],
                                                     saliency_scores=[[4, 4, 4]] * 2)),
                                 ["highlight_val_release.jsonl", "line 1", "relevant_clip_ids"]),
    "clip-id-negative": (_qvh_case(_row_with(relevant_clip_ids=[-1],
                                             saliency_scores=[[4, 4, 4]])),
                         ["highlight_val_release.jsonl", "line 1", "relevant_clip_ids"]),
    "clip-id-beyond-features": (_qvh_case(lengths={"v1": (6, 6)}, rows=_row_with(
        relevant_clip_ids=[7], saliency_scores=[[4, 4, 4]], relevant_windows=[[14, 16]])),
                                ["highlight_val_release.jsonl", "line 1", "relevant_clip_ids",
                                 "v1", "6 clips"]),
    "feature-types-of-different-lengths": (_qvh_case(lengths={"v1": (10, 9)}),
                                           ["v1", "slowfast_features 10", "clip_features 9"]),
    "vid-leaves-root": (_qvh_case(_row_with(vid="../../../outside")),
                        ["highlight_val_release.jsonl", "line 1", "'vid'", "../../../outside"]),
    "vid-absolute-path": (_qvh_case(_row_with(vid="/etc/passwd")),
                          ["highlight_val_release.jsonl", "line 1", "'vid'"]),
    "qid-leaves-root": (_qvh_case(_row_with(qid="1/../../x")),
                        ["highlight_val_release.jsonl", "line 1", "'qid'"]),
    "duration-null": (_qvh_case(_row_with(duration=None)),
                      ["highlight_val_release.jsonl", "line 1", "'duration'"]),
    "duration-string": (_qvh_case(_row_with(duration="long")),
                        ["highlight_val_release.jsonl", "line 1", "'duration'"]),
    "window-with-one-number": (_qvh_case(_row_with(relevant_windows=[[1]])),
                               ["highlight_val_release.jsonl", "line 1", "'relevant_windows'"]),
    "window-flat-list": (_qvh_case(_row_with(relevant_windows=[1])),
                         ["highlight_val_release.jsonl", "line 1", "'relevant_windows'"]),
    "window-with-string": (_qvh_case(_row_with(relevant_windows=[[2, "x"]])),
                           ["highlight_val_release.jsonl", "line 1", "'relevant_windows'"]),
    "saliency-ragged": (_qvh_case(_row_with(relevant_clip_ids=[1, 2],
                                            saliency_scores=[[4, 3, 2], [1]])),
                        ["highlight_val_release.jsonl", "line 1", "'saliency_scores'"]),
    "saliency-flat": (_qvh_case(_row_with(relevant_clip_ids=[1, 2], saliency_scores=[4, 3])),
                      ["highlight_val_release.jsonl", "line 1", "'saliency_scores'"]),
    "saliency-string": (_qvh_case(_row_with(relevant_clip_ids=[1],
                                            saliency_scores=[["high", 3, 2]])),
                        ["highlight_val_release.jsonl", "line 1", "'saliency_scores'"]),
    "jsonl-not-utf8": (_qvh_case(edit=_append_bytes("highlight_val_release.jsonl",
                                                    b'{"qid": 2, "query": "caf\xe9"}\n')),
                       ["highlight_val_release.jsonl", "line 2", "UTF-8"]),
    "jsonl-nested-too-deeply": (_qvh_case(edit=_append_bytes("highlight_val_release.jsonl",
                                                             DEEP.encode() + b"\n")),
                                ["highlight_val_release.jsonl", "line 2", "nested too deeply"]),
    "npz-truncated": (_qvh_case(edit=lambda q: _cut_half(q / SLOWFAST_V1)),
                      ["v1.npz", "video features of vid v1"]),
    "npy-bytes-in-npz": (_qvh_case(edit=lambda q: _npy_inside_npz(q / SLOWFAST_V1)),
                         ["v1.npz", "video features of vid v1", "not an .npz"]),
}


def _tvsum_case(edit=None, *, lengths=None, extra=()):
    def build(tmp):
        root = _write_tvsum(tmp / "root", lengths=lengths)
        if edit:
            edit(root / "tvsum")
        return _prepare("tvsum", root, tmp / "out" / "val.h5", "--domain", "BK", *extra), [root]
    return build


def _edit_json(name: str, change):
    def edit(tv: Path) -> None:
        path = tv / name
        path.write_text(json.dumps(change(json.loads(path.read_text()))))
    return edit


def _set_anno(vid, value):
    def change(anno):
        anno[vid]["anno"] = value
        return anno
    return change


READER_CASES.update({
    "tvsum-no-samples": (_tvsum_case(_edit_json("tvsum_splits_UMT.json",
                                                lambda s: {"BK": {"train": [], "val": []}})),
                         ["tvsum", "BK", "val", "0 samples", "val.h5"]),
    "tvsum-all-skipped": (_tvsum_case(lambda tv: (tv / "video_features" / "BK1_opt.npy").unlink()),
                          ["tvsum", "0 samples", "without feature files"]),
    "tvsum-vid-leaves-root": (_tvsum_case(_edit_json(
        "tvsum_splits_UMT.json", lambda s: {"BK": {"train": [], "val": ["../../../x"]}})),
                              ["tvsum_splits_UMT.json", "'vid'", "../../../x"]),
    "tvsum-rgb-opt-lengths-differ": (_tvsum_case(lengths={"BK1": (6, 5)}),
                                     ["BK1", "rgb 6", "opt 5"]),
    "tvsum-scores-string": (_tvsum_case(_edit_json("tvsum_anno.json",
                                                   _set_anno("BK1", [["a"] * 20] * 6))),
                            ["tvsum_anno.json", "BK1", "'anno'"]),
    "tvsum-scores-cover-other-length": (_tvsum_case(_edit_json(
        "tvsum_anno.json", _set_anno("BK1", [[3] * 20] * 4))),
                                        ["tvsum_anno.json", "BK1", "4 clips", "have 6"]),
    "tvsum-json-not-utf8": (_tvsum_case(lambda tv: (tv / "tvsum_anno.json").write_bytes(
        b'{"BK1": {"title": "\xff"}}')), ["tvsum_anno.json", "UTF-8"]),
    "tvsum-json-nested-too-deeply": (_tvsum_case(
        lambda tv: (tv / "tvsum_anno.json").write_text(DEEP)),
                                     ["tvsum_anno.json", "nested too deeply"]),
    "stats-clip-id-outside-duration": (
        lambda tmp: (["data", "stats", "--dataset", "qvhighlights", "--split", "val",
                      "--data-root", _write_qvh(tmp / "root", _row_with(
                          relevant_clip_ids=[12], saliency_scores=[[1, 1, 1]]))],
                     [tmp / "root"]),
        ["highlight_val_release.jsonl", "line 1", "relevant_clip_ids", "10 clips"]),
    "youtube-rgb-opt-lengths-differ": (
        lambda tmp: (_prepare("youtube", _write_youtube(tmp / "root"), tmp / "out" / "val.h5",
                              "--domain", "dog"), [tmp / "root"]),
        ["youtube_highlights", "vid a", "rgb 5", "opt 4"]),
})


@pytest.mark.filterwarnings("ignore::rdmf.data.base.DataWarning")
@pytest.mark.parametrize("build, mentions", list(READER_CASES.values()), ids=list(READER_CASES))
def test_bad_data_is_one_line_error(tmp_path, capsys, build, mentions):
    argv, roots = build(tmp_path)
    before = snapshot(*roots)
    outcome = run(argv, capsys)
    assert_one_line_error(outcome, *mentions)
    assert_unchanged(before, *roots)
    assert not (tmp_path / "out" / "val.h5").exists()


# ------------------------------------------------------------------ synth --out
def _meta(**changes):
    meta = {"generator_version": synth.GENERATOR_VERSION, "size": "ci", "seed": 0,
            "clip_noise": 1.0, "params": dict(synth.DEFAULT_PARAMS), "counts": {}}
    meta.update(changes)
    return meta


def _folder_with(**files):
    def build(tmp):
        out = tmp / "v"
        out.mkdir()
        for name, text in files.items():
            (out / name).write_text(text)
        return out
    return build


SYNTH_CASES = {
    "out-holds-user-files": (_folder_with(keep="my notes"), ["v", "no meta.json", "--force"]),
    "out-is-a-file": (lambda tmp: (tmp / "v").write_text("a file") and tmp / "v",
                      ["v", "not a folder"]),
    "out-holds-other-size": (_folder_with(**{"meta.json": json.dumps(_meta(size="default"))}),
                             ["v", "size 'default', asked 'ci'", "--force"]),
    "out-holds-other-seed": (_folder_with(**{"meta.json": json.dumps(_meta(seed=3))}),
                             ["v", "seed 3, asked 0"]),
    "out-holds-other-version": (_folder_with(**{"meta.json": json.dumps(
        _meta(generator_version="1"))}), ["v", "generator version '1'"]),
    "out-holds-other-knobs": (_folder_with(**{"meta.json": json.dumps(
        _meta(params={**synth.DEFAULT_PARAMS, "rho": 0.1}))}), ["v", "params rho differ"]),
    "out-meta-not-utf8": (lambda tmp: _folder_with()(tmp).joinpath("meta.json").write_bytes(
        b"\xff\xfe") and tmp / "v", ["meta.json", "UTF-8", "--force"]),
    "out-meta-nested-too-deeply": (_folder_with(**{"meta.json": DEEP}),
                                   ["meta.json", "nested too deeply"]),
}


@pytest.mark.parametrize("build, mentions", list(SYNTH_CASES.values()), ids=list(SYNTH_CASES))
def test_synth_out_that_is_not_this_set(tmp_path, capsys, build, mentions):
    out = build(tmp_path)
    before = snapshot(tmp_path)
    outcome = run(["data", "synth", "--size", "ci", "--seed", "0", "--out", out], capsys)
    assert_one_line_error(outcome, *mentions)
    assert_unchanged(before, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v"]  # no partial build left


@pytest.fixture
def tiny_sizes(monkeypatch):
    """The ``ci`` size shrunk to a few videos per split (the marker rule does not depend on it)."""
    monkeypatch.setitem(synth.SIZES, "ci", {"train": 2, "val": 2, "test": 1})


def test_synth_out_same_set_is_kept_and_force_replaces(tmp_path, capsys, tiny_sizes):
    out = tmp_path / "v"
    assert run(["data", "synth", "--size", "ci", "--out", out], capsys).code == 0
    assert synth.read_meta(out)["counts"] == {"train": 2, "val": 2, "test": 1}
    before = snapshot(out)
    again = run(["data", "synth", "--size", "ci", "--out", out], capsys)
    assert again.code == 0 and again.stderr.strip() == ""
    assert snapshot(out) == before                         # the same set: reused, untouched
    (out / "keep").write_text("my notes")
    forced = run(["data", "synth", "--size", "ci", "--out", out, "--force"], capsys)
    assert forced.code == 0 and not (out / "keep").exists()  # --force replaces the folder
    other = tmp_path / "w"
    other.mkdir()
    (other / "keep").write_text("my notes")
    assert run(["data", "synth", "--out", other, "--seed", "1", "--force"], capsys).code == 0
    assert synth.read_meta(other)["seed"] == 1 and not (other / "keep").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v", "w"]


def test_synth_failure_leaves_out_as_it_was(tmp_path, capsys, tiny_sizes, monkeypatch):
    out = tmp_path / "v"
    out.mkdir()
    (out / "meta.json").write_text(json.dumps(_meta(seed=3)))

    def fail(*args, **kwargs):
        raise ValueError("generator failed")
    monkeypatch.setattr(synth, "generate_in_memory", fail)
    before = snapshot(tmp_path)
    outcome = run(["data", "synth", "--out", out, "--force"], capsys)
    assert_one_line_error(outcome, "generator failed")
    assert_unchanged(before, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v"]


# ------------------------------------------------------------------ prepare --out
def _out_case(make_out, *extra):
    """``data prepare`` of the tiny TVSum root into ``make_out(tmp)`` (which may create files)."""
    def build(tmp):
        root = _write_tvsum(tmp / "root")
        out = make_out(tmp)
        argv = ["data", "prepare", "--dataset", "tvsum", "--domain", "BK", "--data-root", root,
                "--out", out, "--no-progress", *extra]
        return argv, [tmp]
    return build


def _file(name, text="user data"):
    def make(tmp):
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path
    return make


def _over_input(tmp):
    """An --out whose annotation rows (``.jsonl`` beside it) are the QVHighlights input."""
    _write_qvh(tmp / "qroot", [_qvh_row()])
    return tmp / "qroot" / "qvhighlights" / "annotations" / "highlight_val_release.h5"


OUT_CASES = {
    "out-is-a-user-file": (_out_case(_file("x.h5")), ["--out", "x.h5", "not an rdmf feature store",
                                                      "--force"]),
    "out-rows-are-a-user-file": (_out_case(lambda tmp: _file("x.jsonl")(tmp).with_suffix(".h5")),
                                 ["--out", "x.jsonl", "--force"]),
    "out-is-not-h5": (_out_case(lambda tmp: tmp / "x.jsonl"), ["--out", "x.jsonl", ".h5"]),
    "out-is-a-folder": (_out_case(lambda tmp: (tmp / "d.h5").mkdir() or tmp / "d.h5"),
                        ["--out", "d.h5", "folder"]),
    "out-all-splits-is-a-file": (_out_case(_file("all"), "--split", "all"),
                                 ["--out", "all", "not a folder"]),
    "out-over-own-input": (lambda tmp: (["data", "prepare", "--dataset", "qvhighlights",
                                         "--split", "val", "--data-root", tmp / "qroot",
                                         "--out", _over_input(tmp), "--no-progress", "--force"],
                                        [tmp]),
                           ["--out", "highlight_val_release.jsonl", "input"]),
}


@pytest.mark.parametrize("build, mentions", list(OUT_CASES.values()), ids=list(OUT_CASES))
def test_prepare_out_that_is_not_its_own(tmp_path, capsys, build, mentions):
    argv, roots = build(tmp_path)
    before = snapshot(*roots)
    outcome = run(argv, capsys)
    assert_one_line_error(outcome, *mentions)
    assert_unchanged(before, *roots)


def test_prepare_replaces_its_own_store_and_force_a_user_file(tmp_path, capsys):
    root = _write_tvsum(tmp_path / "root")
    out = tmp_path / "val.h5"
    argv = _prepare("tvsum", root, out, "--domain", "BK")
    assert run(argv, capsys).code == 0
    assert run(argv, capsys).code == 0                     # its own store: replaced
    out.write_text("user data")
    assert run(argv + ["--force"], capsys).code == 0
    assert run(["data", "verify", out], capsys).code == 0


# ------------------------------------------------------------------ verify
def test_verify_names_the_sample_and_field_holding_nan(tmp_path, capsys):
    import h5py
    root = _write_tvsum(tmp_path / "root", ids=("BK0", "BK1", "BK2"))
    out = tmp_path / "train.h5"
    argv = _prepare("tvsum", root, out, "--domain", "BK")
    argv[argv.index("val")] = "train"
    assert run(argv, capsys).code == 0
    with h5py.File(out, "a") as h5:
        first_row = h5["offsets/video"][1]          # sample 1 starts here
        h5["video"][first_row + 2, 3] = np.nan
    before = snapshot(tmp_path)
    outcome = run(["data", "verify", out], capsys)
    assert_one_line_error(outcome, "train.h5", "sample 1", "BK1", "'video'", "NaN")
    assert_unchanged(before, tmp_path)


# ------------------------------------------------------------------ text-encoder cache
def test_empty_cache_entry_is_recomputed(tmp_path):
    from rdmf.data import text_encoder
    sentence = "a dog catches a frisbee"
    entry = tmp_path / f"{text_encoder._key(sentence)}.npy"
    entry.write_bytes(b"")
    (tokens,) = text_encoder.encode_tokens([sentence], cache_dir=tmp_path)
    assert tokens.shape[1] == text_encoder.TEXT_DIM
    np.testing.assert_array_equal(np.load(entry), tokens)   # rewritten with the encoding


@pytest.mark.parametrize("kind", ["read-only", "not-a-folder"])
def test_unwritable_cache_is_one_line_error(tmp_path, capsys, tiny_sizes, monkeypatch, kind):
    from rdmf.data import text_encoder
    if kind == "read-only":
        cache = tmp_path / "cache"
        cache.mkdir()
        cache.chmod(0o555)
        if os.access(cache, os.W_OK):
            pytest.skip("a read-only folder stays writable for this user (root)")
    else:
        (tmp_path / "cache").write_text("not a folder")
        cache = tmp_path / "cache" / "minilm"
    monkeypatch.setattr(text_encoder, "_cache_dir", lambda: cache)
    before = snapshot(tmp_path)
    try:
        outcome = run(["data", "synth", "--out", tmp_path / "v"], capsys)
    finally:
        if kind == "read-only":
            cache.chmod(0o755)
    assert_one_line_error(outcome, str(cache), "text-encoder cache")
    assert_unchanged(before, tmp_path)
    assert not (tmp_path / "v").exists()
