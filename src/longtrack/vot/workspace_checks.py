"""What ``write_workspace`` checks before it writes anything, so that a workspace that looks ready
is ready: the error of bad input appears now, in one line, not inside ``vot evaluate`` hours later.

* every tracker builds with its weights (as the TraX server will, here on the CPU): garbage
  weights, weights given to a weights-free tracker and a missing weights folder fail now;
* every sequence's first region covers at least ``contract.MIN_BOX_SIDE`` pixels of the frame
  (``contract.initial_box``), since VOT initializes the tracker there;
* every frame file decodes (at 1/8 scale: the whole compressed stream is read, which finds
  truncated and corrupt files, at a fraction of a full decode's cost);
* no text that goes into ``trackers.ini`` or the stack holds a control character: a newline
  in a path would start a new ``key = value`` line of its own in ``trackers.ini``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..contract import initial_box
from ..datasets.sequence import Sequence
from ..errors import LongtrackError


def check_text(value, what: str) -> str:
    """``value`` as text, refused when it holds a control character (newline, tab, ESC ...)."""
    text = str(value)
    bad = next((c for c in text if ord(c) < 32 or 127 <= ord(c) < 160), None)
    if bad is not None:
        raise LongtrackError(f"{what} {text!r} holds the control character {bad!r}; "
                             "it cannot go into a VOT workspace's trackers.ini")
    return text


def check_trackers(trackers) -> None:
    """Build each tracker with its weights on the CPU, as the TraX server will."""
    import warnings

    from ..registry import get_tracker_spec

    for t in trackers:
        check_text(t.name, "tracker name")
        check_text(t.device, f"device of tracker {t.name}")
        if t.weights is not None:
            check_text(t.weights, f"weights path of tracker {t.name}")
        spec = get_tracker_spec(t.name)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                spec.build(weights=t.weights, device="cpu")
        except LongtrackError as exc:
            raise LongtrackError(f"tracker {t.name} cannot run in the workspace: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - whatever the weights file does to the model
            detail = " ".join(str(exc).split())[:200]
            raise LongtrackError(f"tracker {t.name} cannot be built with weights {t.weights or '(shipped)'}: "
                                 f"{type(exc).__name__}: {detail}") from exc


def first_box(seq: Sequence) -> tuple[float, float, float, float]:
    """The first frame's region as an axis-aligned box (a polygon's bounds)."""
    if seq.polygons is not None:
        poly = np.asarray(seq.polygons[0], dtype=np.float64)
        xs, ys = poly[0::2], poly[1::2]
        return float(xs.min()), float(ys.min()), float(xs.max() - xs.min()), float(ys.max() - ys.min())
    return tuple(float(v) for v in seq.boxes[0])


def check_first_region(seq: Sequence, image_size: tuple[int, int]) -> None:
    width, height = image_size
    try:
        initial_box(first_box(seq), (height, width))
    except LongtrackError as exc:
        raise LongtrackError(f"{seq.name}: the first frame's region cannot start a tracker: {exc}") from None


def check_frames(seq: Sequence, progress=None) -> None:
    """Decode every frame file of ``seq`` (at 1/8 scale); a sequence decoded by its own loader
    is checked on its first frame (the rest are decoded when written)."""
    import cv2

    if seq.loader is not None:
        seq.frame(0)  # raises LongtrackError naming the frame
        if progress is not None:
            progress(len(seq))
        return
    for i, path in enumerate(seq.frames):
        try:
            data = np.fromfile(Path(path), dtype=np.uint8)
        except OSError as exc:
            raise LongtrackError(f"{seq.name}: frame {i + 1} ({path}): {exc.strerror or exc}") from None
        if not data.size or cv2.imdecode(data, cv2.IMREAD_REDUCED_GRAYSCALE_8) is None:
            raise LongtrackError(f"{seq.name}: frame {i + 1} ({path}) is empty, corrupt or not an image")
        if progress is not None:
            progress(1)
