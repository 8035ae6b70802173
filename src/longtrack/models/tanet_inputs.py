"""How images become the TANet generator's inputs, shared by training and tracking so both
see the same pixels: the whole frame resized to the input square (``cv2.resize``, bilinear,
aspect not kept) and the target patch of the first frame resized the same way, BGR channel
order (the authors read images with ``cv2.imread``); the network divides by 255 itself.
"""
from __future__ import annotations

import cv2
import numpy as np

__all__ = ["resize_bgr", "target_patch"]


def resize_bgr(image_rgb: np.ndarray, side: int) -> np.ndarray:
    """``H x W x 3`` uint8 RGB -> ``3 x side x side`` uint8 BGR (contiguous)."""
    resized = cv2.resize(image_rgb, (side, side), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(resized[:, :, ::-1].transpose(2, 0, 1))


def target_patch(frame: np.ndarray, box_xywh, side: int) -> np.ndarray:
    """The box's pixels (whole-pixel bounds, clipped to the frame, at least 1 pixel) resized to
    ``side x side`` (same channel order as ``frame``): the authors'
    ``img0[int(y):int(y+h), int(x):int(x+w)]`` followed by ``cv2.resize``."""
    height, width = frame.shape[:2]
    x, y, w, h = (float(v) for v in box_xywh)
    x0 = min(max(int(x), 0), width - 1)
    y0 = min(max(int(y), 0), height - 1)
    x1 = min(max(int(x + w), x0 + 1), width)
    y1 = min(max(int(y + h), y0 + 1), height)
    return cv2.resize(np.ascontiguousarray(frame[y0:y1, x0:x1]), (side, side), interpolation=cv2.INTER_LINEAR)
