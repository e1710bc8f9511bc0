"""QVHighlights / Moment-DETR layout reader (also reads the synthetic benchmark).

Layout (Moment-DETR):
- annotations ``highlight_{train,val,test}_release.jsonl``: ``qid, query, vid, duration,
  relevant_windows, relevant_clip_ids, saliency_scores`` (the test file without the last three);
- video features ``<features_dir>/<type dir>/{vid}.npz``, key ``features`` ``(L, D_t)``, one folder
  per feature type (``slowfast_features`` 2304-d, ``clip_features`` 512-d; the released one-video
  fixture names them ``slowfast_video_features``, ``clip_video_features``);
- text features ``<features_dir>/clip_text_features/qid{qid}.npz``, key ``last_hidden_state``.

Each type is L2-normalised, types concatenated, temporal endpoints appended; text tokens
L2-normalised and capped at 32; videos capped at ``max_clips`` (75) with windows clipped to the
cap and relevant clips beyond it dropped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rdmf.io import read_jsonl

from .base import (
    RecordDataset,
    as_array,
    as_float,
    as_int_list,
    check_query,
    check_windows,
    file_name_id,
    load_array,
)
from .features import prepare_text_features, prepare_video_features
from .sample import CLIP_LEN_S, Sample

FEATURE_DIRS = {
    "slowfast": ("slowfast_features", "slowfast_video_features"),
    "clip": ("clip_features", "clip_video_features"),
    "clip_text": ("clip_text_features",),
}
ANNOTATION_FILES = {"train": "highlight_train_release.jsonl", "val": "highlight_val_release.jsonl",
                    "test": "highlight_test_release.jsonl"}


def find_type_dir(features_dir: Path, feature_type: str) -> Path:
    """The folder of one feature type (``slowfast``, ``clip``, or a folder name)."""
    for name in FEATURE_DIRS.get(feature_type, (feature_type,)):
        if (features_dir / name).is_dir():
            return features_dir / name
    raise FileNotFoundError(f"{features_dir}: no folder for feature type {feature_type!r} "
                            f"(looked for {', '.join(FEATURE_DIRS.get(feature_type, (feature_type,)))})")


class MomentDataset(RecordDataset):
    """Any data set in the QVHighlights layout.

    Args:
        annotation_file: jsonl of QVHighlights rows.
        video_dirs: one folder per video feature type, each holding ``{vid}.npz`` (``features``).
        text_dir: folder of ``qid{qid}.npz`` (``last_hidden_state``).
        max_clips: cap on clips (75 for QVHighlights), None for none.
        missing: ``"error"`` (default) or ``"skip"`` (counted warning) for rows whose feature
            files are absent.
    """

    def __init__(self, annotation_file: str | Path, video_dirs: list[Path], text_dir: Path, *,
                 max_clips: int | None = 75, clip_len_s: float = CLIP_LEN_S,
                 max_tokens: int = 32, missing: str = "error", name: str = "qvhighlights",
                 video_dtype_note: str = "") -> None:
        super().__init__()
        if missing not in ("error", "skip"):
            raise ValueError(f"missing must be 'error' or 'skip', got {missing!r}")
        self.name = name
        self.annotation_file = Path(annotation_file)
        self.video_dirs = [Path(d) for d in video_dirs]
        self.text_dir = Path(text_dir)
        self.max_clips, self.clip_len_s, self.max_tokens = max_clips, clip_len_s, max_tokens
        for row_no, row in enumerate(read_jsonl(self.annotation_file), start=1):
            record = self._check_row(row, row_no)
            paths = [d / f"{record['vid']}.npz" for d in self.video_dirs]
            text = self.text_dir / f"qid{record['qid']}.npz"
            absent = [p for p in paths + [text] if not p.is_file()]
            if absent:
                if missing == "error":
                    raise FileNotFoundError(
                        f"{absent[0]}: features of qid {record['qid']} (vid {record['vid']}, "
                        f"{self.annotation_file.name} line {row_no}) not found")
                self.skip("without feature files", record["qid"], strict=False)
                continue
            record.update(video_paths=paths, text_path=text)
            self.records.append(record)
        self.warn_skipped()

    def _check_row(self, row: dict, row_no: int) -> dict:
        where = f"{self.annotation_file}, line {row_no}"
        for field in ("qid", "vid", "query", "duration"):
            if field not in row:
                raise ValueError(f"{where}: missing field {field!r}")
        ident = f"qid {row['qid']}"
        where_id = f"{where} ({ident})"
        qid = row["qid"]
        if isinstance(qid, bool) or not isinstance(qid, (int, str)):
            raise ValueError(f"{where}: field 'qid' is {qid!r}, expected an integer or a string")
        file_name_id(f"qid{qid}", where=where_id, field="qid")
        vid = file_name_id(row["vid"], where=where_id, field="vid")
        check_query(row["query"], path=where, ident=ident)
        duration = as_float(row["duration"], where=where_id, field="duration")
        if duration <= 0:
            raise ValueError(f"{where}: field 'duration' of {ident} is {row['duration']!r}")
        windows = row.get("relevant_windows")
        if windows is not None:
            windows = as_array(windows, where=where_id, field="relevant_windows", columns=2,
                               shape="a list of [start, end] windows in seconds")
            check_windows(windows, duration, path=where, ident=ident)
            windows = windows.astype(np.float32)
        clip_ids, scores = row.get("relevant_clip_ids"), row.get("saliency_scores")
        if clip_ids is not None:
            clip_ids = as_int_list(clip_ids, where=where_id, field="relevant_clip_ids")
            n_clips = int(np.ceil(duration / self.clip_len_s - 1e-6))
            outside = [c for c in clip_ids if not 0 <= c < n_clips]
            if outside:
                raise ValueError(f"{where}: field 'relevant_clip_ids' of {ident}: clip {outside[0]} "
                                 f"lies outside the {n_clips} clips of a {duration:g} s video")
        if scores is not None:
            scores = as_array(scores, where=where_id, field="saliency_scores",
                              shape="one list of annotator scores per relevant clip")
        if clip_ids is not None and scores is not None and len(clip_ids) != len(scores):
            raise ValueError(f"{where}: {ident}: {len(clip_ids)} relevant_clip_ids but "
                             f"{len(scores)} saliency_scores")
        return {"qid": qid, "vid": vid, "query": row["query"],
                "duration": duration, "windows": windows, "clip_ids": clip_ids, "scores": scores,
                "row_no": row_no}

    def load(self, record: dict) -> Sample:
        feats = [load_array(p, "features", what="video", ident=f"vid {record['vid']}")
                 for p in record["video_paths"]]
        lengths = [f.shape[0] for f in feats]
        if len(set(lengths)) > 1:
            raise ValueError(f"{record['video_paths'][0].parent.parent}: vid {record['vid']}: the "
                             "feature types have different lengths ("
                             + ", ".join(f"{p.parent.name} {n}" for p, n in
                                         zip(record["video_paths"], lengths)) + " clips)")
        video = prepare_video_features(feats, max_clips=self.max_clips)
        tokens = load_array(record["text_path"], "last_hidden_state", what="text",
                            ident=f"qid {record['qid']}")
        text = prepare_text_features(tokens, max_tokens=self.max_tokens)
        L = video.shape[0]
        duration = record["duration"]
        if self.max_clips is not None and L >= self.max_clips:  # capped: the video now ends here
            duration = min(duration, L * self.clip_len_s)
        starts = np.arange(L, dtype=np.float32) * self.clip_len_s
        clip_times = np.stack([starts, np.minimum(starts + self.clip_len_s, duration)], 1)
        windows = np.zeros((0, 2), np.float32)
        if record["windows"] is not None:
            w = np.clip(record["windows"], 0, duration)
            windows = w[w[:, 1] > w[:, 0]].astype(np.float32)
        saliency = None
        if record["clip_ids"] is not None and record["scores"] is not None:
            scores = np.asarray(record["scores"], np.float32).reshape(len(record["clip_ids"]), -1)
            saliency = np.zeros((L, max(scores.shape[1], 1)), np.float32)
            ids = np.asarray(record["clip_ids"], int)
            if self.max_clips is None or L < self.max_clips:
                beyond = ids[ids >= L]
                if beyond.size:
                    raise ValueError(f"{self.annotation_file}, line {record['row_no']}: field "
                                     f"'relevant_clip_ids' of qid {record['qid']}: clip "
                                     f"{int(beyond[0])} lies beyond the {L} clips of the "
                                     f"features of vid {record['vid']}")
            keep = ids < L  # clips beyond the length cap are dropped with the rest of the video
            saliency[ids[keep]] = scores[keep]
        return Sample(qid=record["qid"], vid=record["vid"], query=record["query"],
                      video_feats=video, text_feats=text, duration_s=float(duration),
                      clip_times_s=clip_times, windows_s=windows, saliency=saliency,
                      meta={"dataset": self.name, "source": str(self.annotation_file)})


def qvhighlights_dataset(root: Path, split: str, *, feature_types=("slowfast", "clip"),
                         features_dir: str | Path | None = None, test_with_gt: bool = False,
                         max_clips: int | None = 75, missing: str = "error",
                         annotation_file: str | Path | None = None, **kw) -> MomentDataset:
    """The real QVHighlights benchmark under ``<data root>/qvhighlights``."""
    if split not in ANNOTATION_FILES:
        raise ValueError(f"unknown QVHighlights split {split!r}; valid: train, val, test")
    if annotation_file is None:
        name = ANNOTATION_FILES[split]
        if split == "test" and test_with_gt:
            name = "highlight_test_with_gt.jsonl"
        annotation_file = root / "annotations" / name
    if features_dir is None:
        features_dir = next((root / n for n in ("features", "features_one_video")
                             if (root / n).is_dir()), root / "features")
    features_dir = Path(features_dir)
    if not features_dir.is_dir():
        raise FileNotFoundError(f"{features_dir}: QVHighlights feature folder not found")
    video_dirs = [find_type_dir(features_dir, t) for t in feature_types]
    text_dir = find_type_dir(features_dir, "clip_text")
    return MomentDataset(annotation_file, video_dirs, text_dir, max_clips=max_clips,
                         missing=missing, name="qvhighlights", **kw)
