"""The authors' test-time image pipeline (neuron ``BasicPairTransforms(train=False)``).

Rescale keeping the aspect ratio so that the long side is at most ``input_size[0]`` and the short
side at most ``input_size[1]`` (``scale = min(long_max / long, short_max / short)``, bilinear), then
zero-pad at the bottom/right to a multiple of ``size_divisor``. Normalisation is the model's job
(:meth:`DMTrack.normalise`); padding happens on the 0-255 image with the mean colour so that it is
zero after normalisation, as the authors pad after normalising.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from .config import DMTrackConfig

__all__ = ["rescale_factor", "preprocess_image"]


def rescale_factor(height: int, width: int, input_size: tuple[int, int]) -> float:
    """mmcv ``imrescale`` with ``scale = (long_max, short_max)``."""
    long_max, short_max = max(input_size), min(input_size)
    return min(long_max / max(height, width), short_max / min(height, width))


def preprocess_image(frame: np.ndarray, config: DMTrackConfig, device=None) -> tuple[torch.Tensor, float, tuple[int, int]]:
    """``H x W x 3`` uint8 RGB -> (``[1, 3, Hp, Wp]`` float RGB 0-255 padded with the mean,
    scale_factor (rescaled / original pixels), ``(h, w)`` of the rescaled image before padding)."""
    height, width = frame.shape[:2]
    scale = rescale_factor(height, width, config.input_size)
    new_w, new_h = int(width * scale + 0.5), int(height * scale + 0.5)
    resized = frame if (new_w, new_h) == (width, height) else cv2.resize(frame, (new_w, new_h),
                                                                          interpolation=cv2.INTER_LINEAR)
    div = config.size_divisor
    pad_h, pad_w = -(-new_h // div) * div, -(-new_w // div) * div
    image = np.empty((pad_h, pad_w, 3), dtype=np.float32)
    image[:] = np.asarray(config.mean, dtype=np.float32)
    image[:new_h, :new_w] = resized
    tensor = torch.from_numpy(image).permute(2, 0, 1)[None]
    return (tensor.to(device) if device is not None else tensor), scale, (new_h, new_w)
