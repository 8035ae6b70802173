"""Square crops around a box, and the exact mapping of boxes between frame and crop.

Used by the trackers online and by the training samplers, so that both see the same
pixels. The geometry follows OSTrack's ``sample_target``: a square of side
``ceil(sqrt(w * h) * factor)`` centred on the box (its corner rounded to a whole pixel),
padded where it leaves the frame, resized to ``output_size``. Unlike OSTrack, crop and
resize are one affine warp, so a huge crop never allocates the padded full-size square.

Coordinates are continuous pixel-edge coordinates (pixel ``i`` covers ``[i, i + 1)``), so the
frame-to-crop mapping is ``crop = (frame - corner) * scale`` and its inverse is exact.

``crop_around_ostrack`` is OSTrack's ``sample_target`` itself (cut, zero-pad, then ``cv2.resize``),
for networks trained on its pixels: the authors' converted checkpoints.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .errors import LongtrackError

__all__ = ["CropTransform", "crop_around", "crop_around_ostrack", "crop_region"]


@dataclass(frozen=True)
class CropTransform:
    """Where a crop came from: its top-left corner in the frame, its side in frame pixels,
    the output side and the frame's size ``(width, height)``."""

    x0: float
    y0: float
    side: float  # side of the cropped square, in frame pixels
    output_size: int
    frame_size: tuple[int, int]

    @property
    def scale(self) -> float:
        """Crop pixels per frame pixel."""
        return self.output_size / self.side

    def box_to_crop(self, box_xywh) -> np.ndarray:
        """Map ``(..., 4)`` xywh boxes from frame to crop coordinates."""
        b = np.asarray(box_xywh, dtype=np.float64)
        s = self.scale
        corner = np.array([self.x0, self.y0])
        return np.concatenate([(b[..., 0:2] - corner) * s, b[..., 2:4] * s], axis=-1)

    def box_to_frame(self, box_xywh_in_crop) -> np.ndarray:
        """Map ``(..., 4)`` xywh boxes from crop to frame coordinates (inverse of ``box_to_crop``)."""
        b = np.asarray(box_xywh_in_crop, dtype=np.float64)
        s = self.scale
        corner = np.array([self.x0, self.y0])
        return np.concatenate([b[..., 0:2] / s + corner, b[..., 2:4] / s], axis=-1)

    def points_to_frame(self, points_xy) -> np.ndarray:
        """Map ``(..., 2)`` points from crop to frame coordinates."""
        p = np.asarray(points_xy, dtype=np.float64)
        return p / self.scale + np.array([self.x0, self.y0])

    def padding_mask(self) -> np.ndarray:
        """``(output_size, output_size)`` bool: True where a crop pixel's centre lies outside
        the frame (the pixel is padding). Models use it as an attention mask."""
        centres = (np.arange(self.output_size) + 0.5) / self.scale
        xs = centres + self.x0
        ys = centres + self.y0
        width, height = self.frame_size
        outside_x = (xs < 0) | (xs >= width)
        outside_y = (ys < 0) | (ys >= height)
        return outside_y[:, None] | outside_x[None, :]


def crop_region(box_xywh, factor: float, output_size: int, frame_size: tuple[int, int]) -> CropTransform:
    """The square crop that ``crop_around`` takes, without touching pixels."""
    x, y, w, h = (float(v) for v in box_xywh)
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
        raise LongtrackError(f"cannot crop around box {(x, y, w, h)}: it needs a finite, positive size")
    if factor <= 0 or output_size < 1:
        raise LongtrackError(f"crop factor must be > 0 and output size >= 1, got {factor}, {output_size}")
    side = math.ceil(math.sqrt(w * h) * factor)
    if side < 1:
        raise LongtrackError(f"box {(x, y, w, h)} is too small to crop with factor {factor}")
    # Python's round(), as OSTrack: the crop corner sits on a whole pixel.
    x0 = round(x + 0.5 * w - side * 0.5)
    y0 = round(y + 0.5 * h - side * 0.5)
    return CropTransform(float(x0), float(y0), float(side), int(output_size),
                         (int(frame_size[0]), int(frame_size[1])))


def crop_around(frame: np.ndarray, box_xywh, factor: float, output_size: int,
                pad_value: str | float = "mean") -> tuple[np.ndarray, CropTransform]:
    """Crop a square of side ``ceil(sqrt(w*h) * factor)`` centred on ``box_xywh`` and resize it.

    Args:
        frame: ``H x W x 3`` uint8 RGB image.
        box_xywh: the box to centre on, frame pixels.
        factor: crop side over the box's geometric-mean side (2.0 templates, 4.0-5.0 searches).
        output_size: side of the returned patch.
        pad_value: ``"mean"`` (the frame's per-channel mean) or a number for every channel.

    Returns:
        ``(patch, transform)``: ``output_size x output_size x 3`` uint8 patch (bilinear) and
        the ``CropTransform`` that maps boxes between frame and patch.
    """
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise LongtrackError(f"crop_around needs an HxWx3 frame, got shape {frame.shape}")
    height, width = frame.shape[:2]
    transform = crop_region(box_xywh, factor, output_size, (width, height))
    if isinstance(pad_value, str):
        if pad_value != "mean":
            raise LongtrackError(f"pad_value must be 'mean' or a number, got {pad_value!r}")
        border = tuple(cv2.mean(frame)[:3])  # per-channel mean; ~100x faster than numpy's here
    else:
        border = (float(pad_value),) * 3
    s = transform.scale
    # Inverse map (patch pixel index -> frame pixel index), pixel centres at +0.5:
    # frame_index = (u + 0.5) / s + x0 - 0.5.
    inverse = np.array([[1.0 / s, 0.0, 0.5 / s + transform.x0 - 0.5],
                        [0.0, 1.0 / s, 0.5 / s + transform.y0 - 0.5]])
    patch = cv2.warpAffine(frame, inverse, (output_size, output_size),
                           flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=border)
    return patch, transform


def crop_around_ostrack(frame: np.ndarray, box_xywh, factor: float, output_size: int) -> tuple[np.ndarray, CropTransform]:
    """OSTrack's (and ProContEXT's) ``sample_target``, step for step: the same square as
    ``crop_region``, cut from the frame, zero-padded with ``cv2.copyMakeBorder``, then resized
    with ``cv2.resize`` (bilinear). Its padding arithmetic is kept: a crop that reaches the right
    (bottom) edge is padded by one column (row) more than it leaves the frame by, so the frame's
    last column (row) is then replaced by zeros. Where their slice would be empty or wrap around
    (a crop wholly outside the frame; their ``clip_box`` never lets that happen) the patch is all zeros.

    Returns ``(patch, transform)`` as ``crop_around``; memory is that of the full-size padded crop.
    """
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise LongtrackError(f"crop_around_ostrack needs an HxWx3 frame, got shape {frame.shape}")
    height, width = frame.shape[:2]
    transform = crop_region(box_xywh, factor, output_size, (width, height))
    side, x1, y1 = int(transform.side), int(transform.x0), int(transform.y0)
    x2, y2 = x1 + side, y1 + side
    x1_pad, y1_pad = max(0, -x1), max(0, -y1)
    x2_pad, y2_pad = max(x2 - width + 1, 0), max(y2 - height + 1, 0)  # the authors' "+ 1"
    rows, cols = (y1 + y1_pad, y2 - y2_pad), (x1 + x1_pad, x2 - x2_pad)
    if rows[1] <= rows[0] or cols[1] <= cols[0]:  # starts are >= 0; a stop below them is no overlap
        return np.zeros((output_size, output_size, 3), np.uint8), transform
    cut = frame[rows[0]:rows[1], cols[0]:cols[1]]
    padded = cv2.copyMakeBorder(cut, y1_pad, y2_pad, x1_pad, x2_pad, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    return cv2.resize(padded, (output_size, output_size)), transform
