"""``rdmf predict``: moment retrieval and highlight detection on your own video.

    rdmf predict VIDEO.mp4 --query "a man opens the fridge" [--query ...] \\
        --checkpoint RUN_DIR_OR_CKPT --clip-model PATH_OR_HUB_ID --out DIR
    rdmf predict --queries pairs.jsonl --checkpoint ... --clip-model ... --out DIR

Writes ``DIR/<video>__<query slug>_<hash>.json`` (windows, per-clip saliency) and a ``.png`` per
query, and prints a short table. Everything is checked (queries, files, checkpoint vs. CLIP
dimensions) before decoding starts, and nothing is written unless every query succeeded.
"""

from __future__ import annotations

import sys
from pathlib import Path

DEFAULT_CLIP_MODEL = "openai/clip-vit-base-patch32"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict", help="find moments and highlights for text queries in a video file",
        description=__doc__.split("\n\n")[0].split(": ", 1)[-1])
    parser.add_argument("video", nargs="?", help="video file (any format PyAV/FFmpeg reads)")
    parser.add_argument("--query", action="append", default=[], metavar="TEXT",
                        help="a sentence describing the moment (repeatable)")
    parser.add_argument("--queries", metavar="FILE.jsonl",
                        help="one JSON object per line: {\"query\": ..., \"video\": optional path "
                             "(relative to the jsonl's folder), \"qid\": optional}")
    parser.add_argument("--checkpoint", required=True, metavar="RUN_DIR_OR_CKPT",
                        help="a run folder written by `rdmf train` or a checkpoint file")
    parser.add_argument("--clip-model", metavar="PATH_OR_ID", default=None,
                        help="CLIP weights: a local folder or a Hugging Face hub id (default: the "
                             f"one the checkpoint records, else {DEFAULT_CLIP_MODEL})")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument("--cache-dir", metavar="DIR", default=None,
                        help="per-video feature cache (default: data/video_features)")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    parser.add_argument("--top-k", type=int, default=10, help="windows per query (default 10)")
    parser.add_argument("--overlap-clips", type=int, default=None,
                        help="overlap of the sliding windows over long videos, in clips "
                             "(default: half the model's trained length)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--no-figure", action="store_true", help="write the JSON only")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.set_defaults(func=run)


def read_requests(args) -> list[tuple[Path, str, object]]:
    """``[(video path, query, qid), ...]`` from the arguments; validated, nothing decoded."""
    from rdmf.io import read_jsonl

    if args.query and args.queries:
        raise ValueError("give either --query or --queries FILE.jsonl, not both")
    requests = []
    if args.queries:
        path = Path(args.queries)
        for line_no, row in enumerate(read_jsonl(path), start=1):
            query = row.get("query")
            if not isinstance(query, str) or not query.strip():
                raise ValueError(f"{path}, line {line_no}: field 'query' is missing or empty")
            video = row.get("video") or args.video
            if not video:
                raise ValueError(f"{path}, line {line_no}: no 'video' field and no VIDEO argument")
            video = Path(video)
            if row.get("video") and not video.is_absolute():
                video = path.parent / video
            requests.append((video, query.strip(), row.get("qid")))
        if not requests:
            raise ValueError(f"{path}: no queries in the file")
    else:
        if not args.video:
            raise ValueError("no video given: rdmf predict VIDEO --query TEXT ...")
        if not args.query:
            raise ValueError("no query given: add --query \"...\" or --queries FILE.jsonl")
        for number, query in enumerate(args.query, start=1):
            if not query.strip():
                raise ValueError(f"--query number {number} is empty: give a sentence describing "
                                 "the moment")
            requests.append((Path(args.video), query.strip(), None))
    for video, _, _ in requests:
        if not video.exists():
            raise FileNotFoundError(f"{video}: no such file")
        if not video.is_file():
            raise ValueError(f"{video}: not a regular file")
    if args.top_k < 1:
        raise ValueError(f"--top-k must be at least 1, got {args.top_k}")
    check_out_dir(Path(args.out), [video for video, _, _ in requests]
                  + [Path(p) for p in (args.queries, args.checkpoint) if p])
    return requests


def check_out_dir(out: Path, inputs: list[Path]) -> None:
    """``--out`` must be a folder (or not exist yet) and must not be one of the inputs."""
    for path in inputs:
        if path.is_file() and out.exists() and out.resolve() == path.resolve():
            raise ValueError(f"--out {out}: is an input of this command, not an output folder; "
                             "give a separate folder")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a folder (predict writes one JSON and "
                         "PNG per query into a folder)")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"--out {out}: {parent} is a file, not a folder")
            break


def load_predictor(checkpoint: str, device: str):
    """``rdmf.inference.Predictor.from_checkpoint`` (a seam the tests can replace)."""
    path = Path(checkpoint)
    if not path.exists():
        raise FileNotFoundError(f"--checkpoint {path}: no such file or run folder")
    from rdmf.inference import Predictor

    return Predictor.from_checkpoint(path, device=device)


def run(args) -> int:
    import torch

    from rdmf.paths import generated_data_dir
    from rdmf.video.clip_features import ClipExtractor
    from rdmf.video.predict import VideoPredictor, prediction_paths, save_prediction

    torch.set_num_threads(max(1, min(torch.get_num_threads(), 4)))
    requests = read_requests(args)
    predictor = load_predictor(args.checkpoint, args.device)
    spec = getattr(predictor, "feature_spec", None)
    clip_model = args.clip_model or getattr(spec, "clip_model", None) or DEFAULT_CLIP_MODEL
    extractor = ClipExtractor.from_pretrained(clip_model, device=args.device,
                                              progress=not args.no_progress)
    cache_dir = None if args.no_cache else (Path(args.cache_dir) if args.cache_dir
                                            else generated_data_dir() / "video_features")
    if cache_dir is not None and cache_dir.exists() and not cache_dir.is_dir():
        raise ValueError(f"--cache-dir {cache_dir}: exists and is not a folder")
    video_predictor = VideoPredictor(predictor, extractor, checkpoint=args.checkpoint,
                                     cache_dir=cache_dir, overlap_clips=args.overlap_clips,
                                     top_k=args.top_k, progress=not args.no_progress)
    results = []
    for video, query, qid in requests:
        result = video_predictor.predict(video, query)[0]
        if qid is not None:
            result.extra["qid"] = qid
        results.append(result)
    # every query succeeded: now write (each file atomically), never over an input
    inputs = [video for video, _, _ in requests] + [Path(p) for p in (args.queries,
                                                                       args.checkpoint) if p]
    for result in results:
        for path in prediction_paths(result, args.out, figure=not args.no_figure).values():
            if any(path.exists() and path.resolve() == source.resolve() for source in inputs):
                raise ValueError(f"--out {args.out}: the output {path.name} would overwrite an "
                                 "input of this command; give another output folder")
    written = [save_prediction(result, args.out, figure=not args.no_figure)
               for result in results]
    print_table(results, written)
    return 0


def print_table(results, written) -> None:
    header = f"{'video':<24} {'query':<36} {'top window (s)':>15} {'score':>6} {'peak (s)':>8}"
    print(header)
    print("-" * len(header))
    for result in results:
        name = _shorten(Path(result.video).name, 24)
        query = _shorten(result.query, 36)
        if result.windows:
            start, end, score = result.windows[0]
            window, score_text = f"{start:.1f}-{end:.1f}", f"{score:.3f}"
        else:
            window, score_text = "-", "-"
        peak = result.centres_s[max(range(len(result.saliency)), key=result.saliency.__getitem__)]
        print(f"{name:<24} {query:<36} {window:>15} {score_text:>6} {peak:8.1f}")
    out_dirs = sorted({str(paths["json"].parent) for paths in written})
    print(f"wrote {len(written)} prediction(s) to {', '.join(out_dirs)}", file=sys.stdout)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
