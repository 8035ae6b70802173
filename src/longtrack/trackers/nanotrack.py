"""NanoTrack v2 through OpenCV's ``cv2.TrackerNano``: a MobileNetV3 Siamese tracker with a BAN
head (Honglin Chu, https://github.com/HonglinChu/SiamTrackers, ``NanoTrack/``), trained by its
author on large real video datasets. It is the pretrained peer our learned trackers are
measured against on real video (docs/benchmark-real.md).

longtrack ships no NanoTrack weights. ``weights`` is a folder holding the author's two ONNX
files, ``nanotrack_backbone_sim.onnx`` (feature extractor) and ``nanotrack_head_sim.onnx``
(neck and head), from ``NanoTrack/models/nanotrackv2/`` of that repository (Apache-2.0; OpenCV's
``TrackerNano`` documentation links there).

Confidence: ``getTrackingScore()``, the best penalised classification score of the search
window, in [0, 1]. ``update`` never reports a loss, so presence is a threshold on that score:
``present = score >= presence_threshold``. The default, 0.978, maximises the OxUvA geometric
mean of TPR and TNR (0.439 / 0.941, GM 0.643) on real-train's 27 sequences, each with 50
frames of another sequence spliced in as a target-absent stretch (``longtrack tune-presence
--tracker nanotrack --visible 100 --absent 50``, docs/baselines.md; never tuned on real-val or
real/). On frames without the target NanoTrack's score stays high (median about 0.9), so the
threshold sits close to 1.
The box is NanoTrack's own in every frame; only ``present`` follows the rule.
"""
from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from ..contract import Prediction
from ..errors import LongtrackError
from .opencv_trackers import OpenCVTracker

BACKBONE_FILE = "nanotrack_backbone_sim.onnx"
HEAD_FILE = "nanotrack_head_sim.onnx"
SOURCE = "https://github.com/HonglinChu/SiamTrackers/tree/master/NanoTrack/models/nanotrackv2"
DEFAULT_PRESENCE_THRESHOLD = 0.978


def weights_files(folder: str | Path | None) -> tuple[Path, Path]:
    """The backbone and head files of a NanoTrack weights folder; a one-line error otherwise."""
    need = f"a folder holding {BACKBONE_FILE} and {HEAD_FILE} (NanoTrack v2's ONNX files, from {SOURCE})"
    if folder is None:
        raise LongtrackError(f"nanotrack ships no weights: give --weights DIR, {need}")
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise LongtrackError(f"nanotrack: weights folder {folder} does not exist; it must be {need}")
    if not folder.is_dir():
        raise LongtrackError(f"nanotrack: --weights {folder} is a file; it must be {need}")
    files = (folder / BACKBONE_FILE, folder / HEAD_FILE)
    missing = [p.name for p in files if not p.is_file()]
    if missing:
        raise LongtrackError(f"nanotrack: {folder} has no {' and no '.join(missing)} (it must be {need})")
    return files


def _opencv_message(exc: cv2.error) -> str:
    """OpenCV's reason without its source path: ``... error: (-5:Bad argument) WHY in function ...``."""
    match = re.search(r"error: \([^)]*\) (.*?)(?: in function .*)?$", str(exc).strip(), re.S)
    return " ".join((match.group(1) if match else str(exc)).split())


class NanoTrackTracker(OpenCVTracker):
    """NanoTrack v2 (``cv2.TrackerNano``); ``weights`` = the folder of its two ONNX files."""

    name = "nanotrack"

    def __init__(self, weights: str | None = None, device: str = "cpu",
                 presence_threshold: float = DEFAULT_PRESENCE_THRESHOLD):
        backbone, head = weights_files(weights)
        if not 0.0 <= float(presence_threshold) <= 1.0:
            raise LongtrackError(f"nanotrack: presence_threshold must be in [0, 1], got {presence_threshold}")
        self.presence_threshold = float(presence_threshold)
        params = cv2.TrackerNano_Params()
        params.backbone, params.neckhead = str(backbone), str(head)

        def make():
            # OpenCV's new DNN engine warns that it ignores the (default) target: not the user's concern.
            level = cv2.utils.logging.getLogLevel()
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
            try:
                return cv2.TrackerNano_create(params)
            finally:
                cv2.utils.logging.setLogLevel(level)

        _check_networks(make, backbone, head)
        super().__init__(make, None, device)

    def _track(self, frame: np.ndarray) -> Prediction:
        pred = super()._track(frame)
        return Prediction(pred.box, pred.score, pred.present and pred.score >= self.presence_threshold)


def _check_networks(make, backbone: Path, head: Path) -> None:
    """Load both files and run them once on a blank frame, so that a damaged, foreign or swapped
    file fails here with its name rather than on a sequence's first frame."""
    try:
        tracker = make()
    except cv2.error as exc:
        raise LongtrackError(f"nanotrack: OpenCV cannot load the ONNX files in {backbone.parent}: "
                             f"{_opencv_message(exc)}") from None
    blank = np.zeros((64, 64, 3), dtype=np.uint8)
    try:
        tracker.init(blank, (16, 16, 32, 32))
        tracker.update(blank)
    except cv2.error as exc:
        raise LongtrackError(f"nanotrack: {backbone.name} and {head.name} in {backbone.parent} load but do not run "
                             f"as NanoTrack's backbone and head: {_opencv_message(exc)}") from None
