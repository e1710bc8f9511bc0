"""YouTube Highlights reader, UMT release.

Under ``<data root>/youtube_highlights``:
- ``youtube_anno.json``: per video ``domain``, ``fps``, ``frames``, ``clip`` (frame windows
  ``[f0, f1]``: 100 frames at a 50-frame stride, one feature row each), ``match`` in {-1, 0, 1}
  (a clip is a highlight iff ``match > 0``);
- ``youtube_splits.json``: per domain ``train`` / ``val`` ids (some have no annotation or
  features: skipped and counted; ``strict=True`` makes that an error);
- ``video_features/{vid}_rgb.npy``, ``{vid}_opt.npy`` (rows x 1024 each).

No text features: the domain is the query; its text features are the MiniLM token features of the
domain name (384-d, see ``rdmf.data.text_encoder``). Clip times come from the frame windows and
the frame rate (not 2 s); no length cap. ``saliency`` is ``(L, 1)`` holding ``match``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rdmf.io import read_json

from .base import RecordDataset, as_array, as_float, as_list, file_name_id, load_array
from .features import prepare_text_features, prepare_video_features
from .sample import Sample

YOUTUBE_DOMAINS = ("dog", "gymnastics", "parkour", "skating", "skiing", "surfing")


class YouTubeDataset(RecordDataset):
    """YouTube Highlights videos of one domain (or ``"all"``) and split (``train``/``val``)."""

    name = "youtube"

    def __init__(self, root: str | Path, split: str, domain: str | None = None, *,
                 strict: bool = False, max_clips: int | None = None, text_features=None) -> None:
        super().__init__()
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"{root}: YouTube Highlights folder not found "
                                    "(is the data root right?)")
        if split not in ("train", "val"):
            raise ValueError(f"YouTube Highlights split must be 'train' or 'val', got {split!r}")
        if domain is None:
            raise ValueError("YouTube Highlights is per domain: pass domain= one of "
                             f"{', '.join(YOUTUBE_DOMAINS)} or 'all'")
        self.root, self.max_clips = root, max_clips
        splits_file, anno_file = root / "youtube_splits.json", root / "youtube_anno.json"
        splits, anno = read_json(splits_file), read_json(anno_file)
        domains = sorted(splits) if domain == "all" else [domain]
        for d in domains:
            if d not in splits:
                raise ValueError(f"{splits_file}: domain {d!r} not in this copy (available: "
                                 f"{', '.join(sorted(splits))}; the release has {', '.join(YOUTUBE_DOMAINS)})")
        self._text_override = text_features
        self._text_cache: dict[str, np.ndarray] = {}
        for d in domains:
            for vid in splits[d].get(split, []):
                vid = file_name_id(vid, where=f"{splits_file} (domain {d}, {split})", field="vid")
                if vid not in anno:
                    self.skip("without annotation", vid, strict=strict)
                    continue
                paths = [root / "video_features" / f"{vid}_{s}.npy" for s in ("rgb", "opt")]
                if not all(p.is_file() for p in paths):
                    self.skip("without feature files", vid, strict=strict)
                    continue
                entry = anno[vid]
                for field in ("fps", "clip", "match"):
                    if field not in entry:
                        raise ValueError(f"{anno_file}: vid {vid}: missing field {field!r}")
                where = f"{anno_file} (vid {vid})"
                fps = as_float(entry["fps"], where=where, field="fps")
                if fps <= 0:
                    raise ValueError(f"{anno_file}: vid {vid}: field 'fps' is {entry['fps']!r}")
                clips = as_array(entry["clip"], where=where, field="clip", columns=2,
                                 shape="a list of [first, last] frame windows")
                match = np.asarray([as_float(m, where=where, field="match")
                                    for m in as_list(entry["match"], where=where, field="match")],
                                   np.float32)
                if len(clips) != len(match):
                    raise ValueError(f"{anno_file}: vid {vid}: {len(clips)} clips but "
                                     f"{len(match)} match labels")
                if (clips[:, 1] <= clips[:, 0]).any():
                    raise ValueError(f"{anno_file}: vid {vid}: field 'clip' has a window with "
                                     "end <= start")
                frames = (as_float(entry["frames"], where=where, field="frames",
                                   numeric_string=True)
                          if "frames" in entry else float(clips[:, 1].max()))
                self.records.append({"vid": vid, "domain": entry.get("domain", d), "fps": fps,
                                     "clips": clips, "match": match, "frames": frames,
                                     "video_paths": paths, "source": str(anno_file)})
        self.warn_skipped()

    def _text(self, domain: str) -> np.ndarray:
        if self._text_override is not None:
            return prepare_text_features(self._text_override)
        if domain not in self._text_cache:
            from .text_encoder import encode_tokens
            self._text_cache[domain] = prepare_text_features(encode_tokens([domain])[0])
        return self._text_cache[domain]

    def load(self, record: dict) -> Sample:
        vid = record["vid"]
        feats = [load_array(p, None, what="video", ident=f"vid {vid}") for p in record["video_paths"]]
        lengths = {"rgb": feats[0].shape[0], "opt": feats[1].shape[0],
                   "match": len(record["match"])}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"{record['video_paths'][0].parent}: vid {vid}: the feature types "
                             "and labels have different lengths ("
                             + ", ".join(f"{k} {n}" for k, n in lengths.items()) + " clips)")
        L = lengths["rgb"]
        if self.max_clips is not None:
            L = min(L, self.max_clips)
        video = prepare_video_features([f[:L] for f in feats])
        clip_times = (record["clips"][:L] / record["fps"]).astype(np.float32)
        duration = float(max(record["frames"] / record["fps"], clip_times[-1, 1]))
        return Sample(qid=vid, vid=vid, query=record["domain"], video_feats=video,
                      text_feats=self._text(record["domain"]), duration_s=duration,
                      clip_times_s=clip_times, saliency=record["match"][:L, None].copy(),
                      meta={"dataset": "youtube", "domain": record["domain"],
                            "fps": record["fps"]})
