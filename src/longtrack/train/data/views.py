"""A view turns one frame into one network input: a jittered square crop around a box, or
the whole frame resized to fit. It returns the image, a padding mask and the box mapping."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ...crops import crop_around
from ..config import ViewConfig
from .augment import jitter_box

__all__ = ["ViewResult", "render_view", "view_shape"]


@dataclass
class ViewResult:
    image: np.ndarray  # (H, W, 3) uint8
    mask: np.ndarray  # (H, W) bool, True on padding
    offset: np.ndarray  # (2,) frame xy of the view's top-left corner
    scale: np.ndarray  # (2,) view pixels per frame pixel, x and y

    def map_boxes(self, boxes_xywh: np.ndarray) -> np.ndarray:
        """Frame xywh -> view xywh for ``(..., 4)`` boxes."""
        b = np.asarray(boxes_xywh, dtype=np.float64)
        return np.concatenate([(b[..., :2] - self.offset) * self.scale, b[..., 2:] * self.scale], axis=-1)


def view_shape(view: ViewConfig) -> tuple[int, int]:
    """``(height, width)`` of the images a view makes."""
    if view.mode == "crop":
        return view.size, view.size
    return view.size[1], view.size[0]


def _pad_colour(frame: np.ndarray, pad) -> tuple[float, float, float]:
    if isinstance(pad, str):
        return tuple(cv2.mean(frame)[:3])
    return (float(pad),) * 3


def render_view(frame: np.ndarray, box_xywh: np.ndarray, view: ViewConfig,
                rng: np.random.Generator) -> ViewResult:
    """Render ``view`` of ``frame``; ``box_xywh`` is what a crop centres on before jitter."""
    if view.mode == "crop":
        centre_box = jitter_box(box_xywh, view.scale_jitter, view.center_jitter, rng)
        patch, transform = crop_around(frame, centre_box, view.factor, view.size, pad_value=view.pad)
        return ViewResult(patch, transform.padding_mask(), np.array([transform.x0, transform.y0]),
                          np.full(2, transform.scale))
    out_w, out_h = view.size
    height, width = frame.shape[:2]
    scale = min(out_w / width, out_h / height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized = cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    image = np.empty((out_h, out_w, 3), dtype=np.uint8)
    image[:] = np.clip(np.rint(_pad_colour(frame, view.pad)), 0, 255).astype(np.uint8)
    image[:new_h, :new_w] = resized
    mask = np.ones((out_h, out_w), dtype=bool)
    mask[:new_h, :new_w] = False
    # The resize maps pixel edges 0 -> 0 and width -> new_w: the scales differ after rounding.
    return ViewResult(image, mask, np.zeros(2), np.array([new_w / width, new_h / height]))
