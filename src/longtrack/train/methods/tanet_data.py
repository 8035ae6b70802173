"""TANet training samples: a run of consecutive whole frames, their target masks, and the
first-frame target patch (the authors' ``targetAttention_train_dataset`` layout: image/,
mask/, tarObject/, made here on the fly from any ``data.sources``).

For a clip of offsets ``o_1..o_C`` (causal: -2,-1,0; centered: -1,0,1) and ``M`` frames whose
maps the motion discriminator judges together (``t .. t+M-1``), a sample holds the
``C + M - 1`` consecutive frames ``t + o_1 .. t + M - 1 + o_C``. Frames are resized to the
square input (``cv2.resize``, as the authors) and kept BGR, like the authors' ``cv2.imread``.
The target may be absent in any of them: its mask is then empty, which teaches the map to
stay dark when the target is gone.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from ...errors import LongtrackError
from ...models.tanet_inputs import target_patch
from ..config import DataConfig
from ..data.augment import to_grayscale
from ..data.sources import Video, build_sources

__all__ = ["TANetSamples", "box_mask", "collate_tanet"]

MAX_TRIES = 100


def box_mask(box_xywh, frame_size: tuple[int, int], side: int) -> np.ndarray:
    """``(side, side)`` float32: 1 on the pixels (of a frame resized to ``side``) whose centre
    lies inside the box, 0 elsewhere. ``frame_size`` is ``(width, height)``."""
    width, height = frame_size
    x, y, w, h = (float(v) for v in box_xywh)
    centres = np.arange(side, dtype=np.float64) + 0.5
    inside_x = (centres * width / side >= x) & (centres * width / side < x + w)
    inside_y = (centres * height / side >= y) & (centres * height / side < y + h)
    return (inside_y[:, None] & inside_x[None, :]).astype(np.float32)


class TANetSamples(torch.utils.data.Dataset):
    """``dataset[(epoch, index)]`` -> dict of numpy arrays (``F = C + M - 1`` frames):

    * ``frames`` ``(F, 3, S, S)`` uint8 BGR, consecutive, oldest first;
    * ``masks`` ``(F, O, O)`` float32 box masks of the target (zeros where absent);
    * ``present`` ``(F,)`` bool; ``target`` ``(3, S, S)`` uint8 BGR: the target patch of the
      video's first frame in which it is visible.

    Augmentation (one draw per sample, applied to every image of it): horizontal flip
    (``flip_prob``), grayscale (``gray_prob``), brightness and colour gains.
    """

    def __init__(self, data: DataConfig, seed: int, *, input_size: int, output_size: int,
                 num_frames: int, sources=None):
        if num_frames < 1:
            raise LongtrackError(f"tanet samples need at least one frame, got {num_frames}")
        self.cfg = data
        self.seed = int(seed)
        self.input_size, self.output_size, self.num_frames = int(input_size), int(output_size), int(num_frames)
        if sources is None:
            self.sources, self.probs, _ = build_sources(data.sources)
        else:
            self.sources, self.probs = list(sources), np.full(len(sources), 1.0 / len(sources))

    def __len__(self) -> int:
        return self.cfg.samples_per_epoch

    def __getitem__(self, key) -> dict[str, np.ndarray]:
        epoch, index = (int(k) for k in key)
        rng = np.random.default_rng([self.seed, epoch, index])
        video_rng = np.random.default_rng([self.seed, epoch, index // self.cfg.samples_per_video, 1])
        for _ in range(MAX_TRIES):
            source = self.sources[video_rng.choice(len(self.sources), p=self.probs)]
            video = source.video(int(video_rng.integers(len(source))))
            visible = np.flatnonzero(video.target_visible)
            if len(visible) and len(video) >= self.num_frames:
                start = int(rng.integers(len(video) - self.num_frames + 1))
                return self._sample(video, int(visible[0]), start, rng)
        raise LongtrackError(f"no TANet sample found in {MAX_TRIES} videos: they need a visible target "
                             f"and at least {self.num_frames} frames")

    def _sample(self, video: Video, template_index: int, start: int, rng) -> dict[str, np.ndarray]:
        flip = rng.random() < self.cfg.flip_prob
        gray = rng.random() < self.cfg.gray_prob
        gain = _colour_gain(self.cfg.brightness_jitter, self.cfg.color_jitter, rng)

        def finish(image_rgb: np.ndarray) -> np.ndarray:
            if flip:
                image_rgb = image_rgb[:, ::-1]
            if gray:
                image_rgb = to_grayscale(image_rgb)
            if gain is not None:
                image_rgb = np.clip(image_rgb.astype(np.float32) * gain, 0, 255).astype(np.uint8)
            return np.ascontiguousarray(image_rgb[:, :, ::-1].transpose(2, 0, 1))  # BGR, CHW

        s, o = self.input_size, self.output_size
        frames, masks, present = [], [], []
        for i in range(start, start + self.num_frames):
            frame = video.frame(i)
            size = (frame.shape[1], frame.shape[0])
            frames.append(finish(cv2.resize(frame, (s, s), interpolation=cv2.INTER_LINEAR)))
            visible = bool(video.target_visible[i])
            mask = box_mask(video.target_boxes[i], size, o) if visible else np.zeros((o, o), np.float32)
            masks.append(mask[:, ::-1] if flip else mask)
            present.append(visible)
        template = video.frame(template_index)
        target = finish(target_patch(template, video.target_boxes[template_index], s))
        return {"frames": np.stack(frames), "masks": np.ascontiguousarray(np.stack(masks)),
                "present": np.array(present, dtype=bool), "target": target}


def _colour_gain(brightness: float, colour: float, rng) -> np.ndarray | None:
    if brightness == 0 and colour == 0:
        return None
    gain = np.full(3, rng.uniform(max(0.0, 1 - brightness), 1 + brightness), dtype=np.float32)
    if colour > 0:
        gain *= rng.uniform(max(0.0, 1 - colour), 1 + colour, size=3).astype(np.float32)
    return gain


def collate_tanet(samples: list[dict]) -> dict[str, torch.Tensor]:
    """Stack samples: every array gains a leading batch dimension ``B``."""
    return torch.utils.data.default_collate(samples)
