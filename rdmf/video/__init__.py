"""Run a trained model on any video file: decoding (PyAV), CLIP features (transformers), sliding
windows over long videos, the ``VideoPredictor`` object and its figure (docs/predict.md)."""

from .clip_features import ClipExtractor, extract_video_features  # noqa: F401
from .decode import decode_clip_frames, iter_clip_frames, probe_video  # noqa: F401
from .predict import QueryPrediction, VideoPredictor, save_prediction  # noqa: F401
