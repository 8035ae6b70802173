"""Annotating a frame with a prediction: the box and its score, the ground truth, an ABSENT
banner when the tracker says the target is gone (``longtrack track --render``, ``demo``); with
several targets, each box labelled with its index (``longtrack track --box A --box B --render``)."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from .contract import Prediction, as_rgb

# Colours (RGB) of the annotations.
PRED_COLOR = (0, 230, 0)
GT_COLOR = (255, 220, 0)
ABSENT_COLOR = (220, 0, 0)
TEXT_COLOR = (255, 255, 255)
# One colour per target (cycled), chosen to stay apart from each other and from ABSENT_COLOR.
TARGET_COLORS = ((0, 230, 0), (0, 170, 255), (255, 150, 0), (230, 0, 230), (0, 230, 230), (255, 255, 0),
                 (150, 90, 255), (255, 255, 255))


def _style(canvas: np.ndarray) -> tuple[int, float, int]:
    """Font, scale and line thickness for a canvas of this size."""
    height, width = canvas.shape[:2]
    return cv2.FONT_HERSHEY_SIMPLEX, max(0.35, min(width, height) / 480.0), max(1, round(min(width, height) / 240.0))


def _labelled_box(canvas: np.ndarray, box, text: str, color) -> None:
    """Draw ``box`` (x, y, w, h) with ``text`` on a filled tag above it (below it at the top edge)."""
    font, font_scale, thickness = _style(canvas)
    width = canvas.shape[1]
    x, y, w, h = box
    top_left, bottom_right = (round(x), round(y)), (round(x + w), round(y + h))
    cv2.rectangle(canvas, top_left, bottom_right, color, thickness + 1)
    (tw, th), base = cv2.getTextSize(text, font, font_scale, thickness)
    label_y = top_left[1] - 3 if top_left[1] - th - base - 3 >= 0 else bottom_right[1] + th + 3
    label_x = min(max(top_left[0], 0), max(width - tw, 0))
    cv2.rectangle(canvas, (label_x, label_y - th - 2), (label_x + tw, label_y + base - 2), color, -1)
    cv2.putText(canvas, text, (label_x, label_y - 1), font, font_scale, (0, 0, 0), thickness, cv2.LINE_AA)


def _banner(canvas: np.ndarray, text: str) -> None:
    """A red banner across the top holding ``text``."""
    font, font_scale, thickness = _style(canvas)
    width = canvas.shape[1]
    (tw, th), base = cv2.getTextSize(text, font, font_scale, thickness)
    cv2.rectangle(canvas, (0, 0), (width - 1, th + base + 8), ABSENT_COLOR, -1)
    cv2.putText(canvas, text, (max((width - tw) // 2, 2), th + 4), font, font_scale, TEXT_COLOR, thickness,
                cv2.LINE_AA)


def _frame_number(canvas: np.ndarray, frame_index: int) -> None:
    font, font_scale, thickness = _style(canvas)
    text = f"#{frame_index}"
    (_, _), base = cv2.getTextSize(text, font, font_scale, thickness)
    cv2.putText(canvas, text, (2, canvas.shape[0] - base - 2), font, font_scale, TEXT_COLOR, thickness, cv2.LINE_AA)


def draw_prediction(frame: np.ndarray, pred: Prediction, gt_box=None, frame_index: int | None = None) -> np.ndarray:
    """Return a copy of ``frame`` (RGB) annotated with the predicted box and its score, the
    ground-truth box as a thin yellow outline when given (skipped when it is empty or NaN), the
    frame index, and a red "ABSENT" banner when ``pred.present`` is False."""
    canvas = as_rgb(frame).copy()
    height, width = canvas.shape[:2]
    _, _, thickness = _style(canvas)

    if gt_box is not None:
        gx, gy, gw, gh = (float(v) for v in gt_box)
        if np.isfinite([gx, gy, gw, gh]).all() and gw > 0 and gh > 0:
            cv2.rectangle(canvas, (round(gx), round(gy)), (round(gx + gw), round(gy + gh)), GT_COLOR, 1)

    x, y, w, h = pred.box
    score_text = f"{pred.score:.2f}"
    if pred.present and np.isfinite([x, y, w, h]).all():
        _labelled_box(canvas, pred.box, score_text, PRED_COLOR)
    else:
        cv2.rectangle(canvas, (0, 0), (width - 1, height - 1), ABSENT_COLOR, thickness + 1)
        _banner(canvas, f"ABSENT  score {score_text}")

    if frame_index is not None:
        _frame_number(canvas, frame_index)
    return canvas


def draw_targets(frame: np.ndarray, preds: Sequence[Prediction], frame_index: int | None = None) -> np.ndarray:
    """Return a copy of ``frame`` (RGB) with every present target's box in its own colour, tagged
    ``index: score`` (index = the target's 0-based order), and a red banner naming the absent ones."""
    canvas = as_rgb(frame).copy()
    absent = []
    for index, pred in enumerate(preds):
        if pred.present and np.isfinite(pred.box).all():
            _labelled_box(canvas, pred.box, f"{index}: {pred.score:.2f}", TARGET_COLORS[index % len(TARGET_COLORS)])
        else:
            absent.append(str(index))
    if absent:
        _banner(canvas, "ABSENT  " + " ".join(absent))
    if frame_index is not None:
        _frame_number(canvas, frame_index)
    return canvas
