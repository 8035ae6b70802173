"""Annotating a frame with a prediction: the box and its score, the ground truth, an ABSENT
banner when the tracker says the target is gone (``longtrack track --render``, ``demo``)."""
from __future__ import annotations

import cv2
import numpy as np

from .api import Prediction, as_rgb

# Colours (RGB) of the annotations.
PRED_COLOR = (0, 230, 0)
GT_COLOR = (255, 220, 0)
ABSENT_COLOR = (220, 0, 0)
TEXT_COLOR = (255, 255, 255)


def draw_prediction(frame: np.ndarray, pred: Prediction, gt_box=None, frame_index: int | None = None) -> np.ndarray:
    """Return a copy of ``frame`` (RGB) annotated with the predicted box and its score, the
    ground-truth box as a thin yellow outline when given (skipped when it is empty or NaN), the
    frame index, and a red "ABSENT" banner when ``pred.present`` is False."""
    canvas = as_rgb(frame).copy()
    height, width = canvas.shape[:2]
    font_scale = max(0.35, min(width, height) / 480.0)
    thickness = max(1, round(min(width, height) / 240.0))
    font = cv2.FONT_HERSHEY_SIMPLEX

    if gt_box is not None:
        gx, gy, gw, gh = (float(v) for v in gt_box)
        if np.isfinite([gx, gy, gw, gh]).all() and gw > 0 and gh > 0:
            cv2.rectangle(canvas, (round(gx), round(gy)), (round(gx + gw), round(gy + gh)), GT_COLOR, 1)

    x, y, w, h = pred.box
    score_text = f"{pred.score:.2f}"
    if pred.present and np.isfinite([x, y, w, h]).all():
        top_left, bottom_right = (round(x), round(y)), (round(x + w), round(y + h))
        cv2.rectangle(canvas, top_left, bottom_right, PRED_COLOR, thickness + 1)
        (tw, th), base = cv2.getTextSize(score_text, font, font_scale, thickness)
        label_y = top_left[1] - 3 if top_left[1] - th - base - 3 >= 0 else bottom_right[1] + th + 3
        label_x = min(max(top_left[0], 0), max(width - tw, 0))
        cv2.rectangle(canvas, (label_x, label_y - th - 2), (label_x + tw, label_y + base - 2), PRED_COLOR, -1)
        cv2.putText(canvas, score_text, (label_x, label_y - 1), font, font_scale, (0, 0, 0), thickness, cv2.LINE_AA)
    else:
        banner = f"ABSENT  score {score_text}"
        (tw, th), base = cv2.getTextSize(banner, font, font_scale, thickness)
        banner_h = th + base + 8
        cv2.rectangle(canvas, (0, 0), (width - 1, banner_h), ABSENT_COLOR, -1)
        cv2.rectangle(canvas, (0, 0), (width - 1, height - 1), ABSENT_COLOR, thickness + 1)
        cv2.putText(canvas, banner, (max((width - tw) // 2, 2), th + 4), font, font_scale, TEXT_COLOR, thickness,
                    cv2.LINE_AA)

    if frame_index is not None:
        text = f"#{frame_index}"
        (tw, th), base = cv2.getTextSize(text, font, font_scale, thickness)
        cv2.putText(canvas, text, (2, height - base - 2), font, font_scale, TEXT_COLOR, thickness, cv2.LINE_AA)
    return canvas
