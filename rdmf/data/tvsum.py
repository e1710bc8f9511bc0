"""TVSum reader, UMT release (also the QD-DETR / CG-DETR jsonl of the same split).

Under ``<data root>/tvsum``:
- ``tvsum_anno.json``: per video ``domain``, ``title``, ``anno`` (clips x 20 users, scores 1-5);
- ``video_features/{vid}_rgb.npy`` and ``{vid}_opt.npy``: I3D (clips x 1024 each, one row per
  2-s clip; float16 in the shared copy, cast to float32);
- ``query_features/{vid}.npz``: ``token`` (N, 512) CLIP features of the title (the text tokens);
- ``tvsum_splits_UMT.json``: per domain ``train`` (4 ids) / ``val`` (1 id).
With ``layout="jsonl"`` the annotations come from ``tvsum_{train,val}.jsonl`` (``label`` = clips x
20) instead of the json; features are the same files.

Samples: ``video_feats`` (L, 1024 + 1024 + 2) (each stream L2-normalised, endpoints appended), no
length cap; ``saliency`` (L, 20); no windows (highlight detection only); 2-s clips.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rdmf.io import read_json, read_jsonl_numbered

from .base import RecordDataset, as_array, check_query, file_name_id, load_array
from .features import prepare_text_features, prepare_video_features
from .sample import CLIP_LEN_S, Sample

TVSUM_DOMAINS = ("VT", "VU", "GA", "MS", "PK", "PR", "FM", "BK", "BT", "DS")


class TVSumDataset(RecordDataset):
    """TVSum videos of one domain (or ``"all"``) and split (``train``/``val``)."""

    name = "tvsum"

    def __init__(self, root: str | Path, split: str, domain: str | None = None, *,
                 layout: str = "umt", strict: bool = False, max_clips: int | None = None,
                 max_tokens: int = 32) -> None:
        super().__init__()
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"{root}: TVSum folder not found (is the data root right?)")
        if split not in ("train", "val"):
            raise ValueError(f"TVSum split must be 'train' or 'val' (the val video is the test "
                             f"video in the published protocol), got {split!r}")
        if domain is None:
            raise ValueError(f"TVSum is per domain: pass domain= one of {', '.join(TVSUM_DOMAINS)} or 'all'")
        self.root, self.max_clips, self.max_tokens = root, max_clips, max_tokens
        splits_file = root / "tvsum_splits_UMT.json"
        splits = read_json(splits_file)
        domains = sorted(splits) if domain == "all" else [domain]
        for d in domains:
            if d not in splits:
                raise ValueError(f"{splits_file}: unknown TVSum domain {d!r}; "
                                 f"available: {', '.join(sorted(splits))}")
        if layout == "umt":
            anno_file = root / "tvsum_anno.json"
            anno = read_json(anno_file)
            if not isinstance(anno, dict) or not all(isinstance(v, dict) for v in anno.values()):
                raise ValueError(f"{anno_file}: expected an object of per-video objects")
            labels = {vid: (v.get("title"), v.get("anno"), v.get("domain"), f"{anno_file}")
                      for vid, v in anno.items()}
        elif layout == "jsonl":
            anno_file = root / f"tvsum_{split}.jsonl"
            rows, line_numbers = read_jsonl_numbered(anno_file)
            for row, line_no in zip(rows, line_numbers):
                if "vid" not in row:
                    raise ValueError(f"{anno_file}, line {line_no}: missing field 'vid'")
            labels = {str(r["vid"]): (r.get("query"), r.get("label"), r.get("domain"),
                                      f"{anno_file}") for r in rows}
        else:
            raise ValueError(f"TVSum layout must be 'umt' or 'jsonl', got {layout!r}")
        for d in domains:
            for vid in splits[d].get(split, []):
                vid = file_name_id(vid, where=f"{splits_file} (domain {d}, {split})", field="vid")
                if vid not in labels:
                    self.skip("without annotation", vid, strict=strict)
                    continue
                paths = [root / "video_features" / f"{vid}_{s}.npy" for s in ("rgb", "opt")]
                text = root / "query_features" / f"{vid}.npz"
                if not all(p.is_file() for p in paths + [text]):
                    self.skip("without feature files", vid, strict=strict)
                    continue
                title, scores, vdomain, source = labels[vid]
                check_query(title, path=source, ident=f"vid {vid}")
                if scores is None:
                    raise ValueError(f"{source}: vid {vid}: no annotation scores ('anno'/'label')")
                self.records.append({"vid": vid, "query": title, "scores": scores,
                                     "domain": vdomain or d, "video_paths": paths,
                                     "text_path": text, "source": source})
        self.warn_skipped()

    def load(self, record: dict) -> Sample:
        vid = record["vid"]
        feats = [load_array(p, None, what="video", ident=f"vid {vid}") for p in record["video_paths"]]
        if feats[0].shape[0] != feats[1].shape[0]:
            raise ValueError(f"{record['video_paths'][1]}: vid {vid}: the feature types have "
                             f"different lengths (rgb {feats[0].shape[0]}, opt "
                             f"{feats[1].shape[0]} clips)")
        video = prepare_video_features(feats, max_clips=self.max_clips)
        tokens = load_array(record["text_path"], "token", what="text", ident=f"vid {vid}")
        text = prepare_text_features(tokens, max_tokens=self.max_tokens)
        scores = as_array(record["scores"], where=f"{record['source']} (vid {vid})",
                          field="anno" if record["source"].endswith(".json") else "label",
                          shape="(clips, users) annotation scores").astype(np.float32)
        L = video.shape[0]
        if scores.shape[0] != L:
            raise ValueError(f"{record['source']}: vid {vid}: annotation scores cover "
                             f"{scores.shape[0]} clips but the features have {L}")
        starts = np.arange(L, dtype=np.float32) * CLIP_LEN_S
        return Sample(qid=vid, vid=vid, query=record["query"], video_feats=video, text_feats=text,
                      duration_s=float(L * CLIP_LEN_S),
                      clip_times_s=np.stack([starts, starts + CLIP_LEN_S], 1),
                      saliency=scores, meta={"dataset": "tvsum", "domain": record["domain"]})
