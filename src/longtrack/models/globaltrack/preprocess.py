"""A frame -> GlobalTrack's input, as the authors' transforms make it (neuron
``BasicPairTransforms(train=False)`` over mmcv): rescale keeping the aspect ratio so the frame
fits ``max_size`` (long edge, short edge), bilinear on uint8 RGB; normalise with the ImageNet mean
and std (0-255 scale); zero-pad bottom and right to a multiple of ``pad_divisor``."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import Tensor

from .config import GlobalTrackConfig

__all__ = ["PreparedImage", "rescale_size", "prepare_image", "normalise_batch"]


@dataclass
class PreparedImage:
    tensor: Tensor  # [1, 3, Hp, Wp] normalised, padded
    img_shape: tuple[int, int]  # (height, width) after rescaling, before padding
    scale_factor: float  # network pixels per frame pixel


def rescale_size(width: int, height: int, max_size: tuple[int, int]) -> tuple[int, int, float]:
    """``(new_width, new_height, scale)`` with ``scale = min(long / max(w, h), short / min(w, h))``
    and sides rounded half up (mmcv ``imrescale``)."""
    long_edge, short_edge = max(max_size), min(max_size)
    scale = min(long_edge / max(width, height), short_edge / min(width, height))
    return int(width * scale + 0.5), int(height * scale + 0.5), scale


def normalise_batch(images: Tensor, cfg: GlobalTrackConfig) -> Tensor:
    """``[B, 3, H, W]`` uint8 (or float 0-255) RGB -> normalised float32."""
    mean = torch.tensor(cfg.mean, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(cfg.std, device=images.device).view(1, 3, 1, 1)
    return (images.float() - mean) / std


def prepare_image(frame: np.ndarray, cfg: GlobalTrackConfig, device: torch.device | str = "cpu") -> PreparedImage:
    """``H x W x 3`` uint8 RGB -> :class:`PreparedImage`."""
    height, width = frame.shape[:2]
    new_w, new_h, scale = rescale_size(width, height, cfg.max_size)
    if (new_w, new_h) != (width, height):
        frame = cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    pad_h = -(-new_h // cfg.pad_divisor) * cfg.pad_divisor
    pad_w = -(-new_w // cfg.pad_divisor) * cfg.pad_divisor
    image = torch.from_numpy(np.ascontiguousarray(frame)).to(device).permute(2, 0, 1)[None]
    padded = torch.zeros((1, 3, pad_h, pad_w), dtype=torch.float32, device=device)
    padded[:, :, :new_h, :new_w] = normalise_batch(image, cfg)
    return PreparedImage(padded, (new_h, new_w), scale)
