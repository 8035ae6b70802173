"""Draw frame ``i`` of a plan: background through the camera, objects back to front, then the
illumination, defocus and sensor noise of that frame.

All per-pixel work is integer: ``uint8`` bilinear warps (fixed-point in OpenCV), integer alpha
blending and look-up tables, so frames are bit-identical on every machine. Warp matrices are
rounded to multiples of 2**-16, which OpenCV's coordinate arithmetic then handles exactly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .appearance import pyramid, sprite_half
from .planner import ObjectPlan, SequencePlan
from .presets import FRAME_STREAM, NOISE_STREAM, SCENE_STREAM, stream
from .scene import canvas_size, make_canvas

EXPOSURE = 0.5          # shutter open for this fraction of a frame: motion blur length = speed * EXPOSURE
MAX_BLUR_STEPS = 12     # sub-frame positions averaged for motion blur
NOISE_MARGIN = 64       # the noise tile is this much larger than the frame; each frame picks an offset
_MATRIX_STEP = 2.0 ** -16
_WARP = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP


@dataclass
class Assets:
    """What a sequence pre-renders once: canvas, sprite pyramids, sensor-noise tile."""

    canvas: np.ndarray                       # (CH, CW, 3) uint8
    sprites: dict[int, list[np.ndarray]]     # identity -> premultiplied RGBA levels
    drift_sprites: dict[int, list[np.ndarray]]
    noise_add: np.ndarray                    # (H + margin, W + margin, 3) uint8
    noise_sub: np.ndarray
    later_canvases: tuple = ()               # ((first frame, canvas), ...): real scenes after camera cuts

    def canvas_at(self, i: int) -> np.ndarray:
        canvas = self.canvas
        for start, later in self.later_canvases:
            if start <= i:
                canvas = later
        return canvas


def sprite_size(obj: ObjectPlan) -> int:
    """Smallest power of two whose sprite holds the object at its largest without upscaling
    (at most 256: bigger objects, mostly occluders, are drawn slightly magnified)."""
    largest = float(max(obj.half_w.max(), obj.half_h.max()))
    size = 16
    while sprite_half(size) < largest and size < 256:
        size *= 2
    return size


def build_assets(plan: SequencePlan) -> Assets:
    cw, ch = canvas_size(plan.width, plan.height)
    later = ()
    if plan.background is None:
        canvas = make_canvas(stream(plan.seed, SCENE_STREAM), cw, ch)
    else:
        canvases = [(start, background.make_canvas(cw, ch)) for start, background in plan.background]
        canvas, later = canvases[0][1], tuple(canvases[1:])
    sprites, drift = {}, {}
    for obj in plan.objects:
        size = sprite_size(obj)
        aspect = float(np.median(obj.half_w / obj.half_h))  # on-screen proportions (real occluder patches)
        sprites[obj.identity] = pyramid(obj.appearance.make_sprite(size, aspect))
        if obj.drift is not None:
            drift[obj.identity] = pyramid(obj.drift.make_sprite(size, aspect))
    rng = stream(plan.seed, NOISE_STREAM)
    noise = np.round(rng.normal(0.0, plan.effects.noise_level,
                                (plan.height + NOISE_MARGIN, plan.width + NOISE_MARGIN, 3)))
    noise = np.clip(noise, -255, 255).astype(np.int16)
    return Assets(canvas, sprites, drift, np.clip(noise, 0, 255).astype(np.uint8),
                  np.clip(-noise, 0, 255).astype(np.uint8), later)


def _exact(matrix: np.ndarray) -> np.ndarray:
    return np.round(matrix / _MATRIX_STEP) * _MATRIX_STEP


def _background(plan: SequencePlan, assets: Assets, i: int) -> np.ndarray:
    cam, (sx, sy) = plan.camera, plan.shake[i]
    z = cam.zoom[i]
    # frame pixel (x, y) sees canvas pixel ((x + 0.5 - W/2 - shake) * zoom + centre - 0.5)
    matrix = np.array([[z, 0.0, cam.centre_x[i] + (0.5 - plan.width / 2.0 - sx) * z - 0.5],
                       [0.0, z, cam.centre_y[i] + (0.5 - plan.height / 2.0 - sy) * z - 0.5]])
    return cv2.warpAffine(assets.canvas_at(i), _exact(matrix), (plan.width, plan.height), flags=_WARP,
                          borderMode=cv2.BORDER_REFLECT_101)


def _sprite_levels(obj: ObjectPlan, assets: Assets, i: int) -> list[np.ndarray]:
    levels = assets.sprites[obj.identity]
    if obj.drift_weight is None:
        return levels
    w = int(round(obj.drift_weight[i] * 256))
    if w <= 0:
        return levels
    other = assets.drift_sprites[obj.identity]
    if w >= 256:
        return other
    return [((a.astype(np.uint16) * (256 - w) + b.astype(np.uint16) * w + 128) >> 8).astype(np.uint8)
            for a, b in zip(levels, other)]


def _pick_level(levels: list[np.ndarray], half: float) -> np.ndarray:
    """The smallest level that is not smaller than the object on screen."""
    chosen = levels[0]
    for level in levels:
        if sprite_half(level.shape[0]) >= half:
            chosen = level
    return chosen


def _draw_object(frame: np.ndarray, plan: SequencePlan, assets: Assets, obj: ObjectPlan, i: int,
                 hull: np.ndarray, velocity: np.ndarray) -> None:
    x, y, hw, hh, angle = obj.x[i], obj.y[i], obj.half_w[i], obj.half_h[i], obj.angle[i]
    c, s = math.cos(angle), math.sin(angle)
    px = x + c * hw * hull[:, 0] - s * hh * hull[:, 1]
    py = y + s * hw * hull[:, 0] + c * hh * hull[:, 1]
    vx, vy = velocity[i] * EXPOSURE
    x0 = max(int(math.floor(px.min() - abs(vx) / 2)) - 2, 0)
    y0 = max(int(math.floor(py.min() - abs(vy) / 2)) - 2, 0)
    x1 = min(int(math.ceil(px.max() + abs(vx) / 2)) + 2, plan.width)
    y1 = min(int(math.ceil(py.max() + abs(vy) / 2)) + 2, plan.height)
    if x1 <= x0 or y1 <= y0:
        return
    levels = _sprite_levels(obj, assets, i)
    sprite = _pick_level(levels, max(hw, hh))
    size = sprite.shape[0]
    half = sprite_half(size)
    # sprite pixel q = B @ (frame pixel + 0.5 - centre) + size/2 - 0.5, with B = half * diag(1/hw, 1/hh) @ R^T
    b = half * np.array([[c / hw, s / hw], [-s / hh, c / hh]])
    length = math.hypot(vx, vy)
    steps = 1 if length < 2.0 else min(MAX_BLUR_STEPS, int(math.ceil(length / 1.5)) + 1)
    total = None
    for k in range(steps):
        shift = (k / (steps - 1) - 0.5) if steps > 1 else 0.0
        cx, cy = x + vx * shift, y + vy * shift
        offset = b @ np.array([x0 + 0.5 - cx, y0 + 0.5 - cy]) + (size / 2.0 - 0.5)
        matrix = _exact(np.concatenate([b, offset[:, None]], axis=1))
        warped = cv2.warpAffine(sprite, matrix, (x1 - x0, y1 - y0), flags=_WARP,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        total = warped.astype(np.uint16) if total is None else total + warped
    layer = total if steps == 1 else (total + steps // 2) // steps
    alpha = layer[:, :, 3:4]
    roi = frame[y0:y1, x0:x1]
    under = (roi.astype(np.uint16) * (255 - alpha) + 127) // 255
    frame[y0:y1, x0:x1] = (under + layer[:, :, :3]).astype(np.uint8)


def _illumination(frame: np.ndarray, gain: np.ndarray) -> np.ndarray:
    if np.all(gain == 1.0):
        return frame
    steps = np.round(gain * 256).astype(np.int64)
    table = np.clip((np.arange(256)[:, None] * steps[None, :] + 128) >> 8, 0, 255).astype(np.uint8)
    return cv2.LUT(frame, table.reshape(256, 1, 3))


def _defocus(frame: np.ndarray, sigma: float) -> np.ndarray:
    if sigma < 0.25:
        return frame
    k = 2 * int(math.ceil(3 * sigma)) + 1
    return cv2.GaussianBlur(frame, (k, k), sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT_101,
                            hint=cv2.ALGO_HINT_ACCURATE)


def render_frame(plan: SequencePlan, assets: Assets, i: int, hulls: dict[int, np.ndarray],
                 velocities: dict[int, np.ndarray]) -> np.ndarray:
    """Frame ``i`` as ``(H, W, 3)`` uint8 RGB."""
    frame = _background(plan, assets, i)
    for identity in plan.draw_order:
        _draw_object(frame, plan, assets, plan.objects[identity], i, hulls[identity], velocities[identity])
    frame = _illumination(frame, plan.effects.gain[i])
    frame = _defocus(frame, float(plan.effects.defocus[i]))
    rng = stream(plan.seed, FRAME_STREAM, i)
    ox, oy = (int(v) for v in rng.integers(0, NOISE_MARGIN, 2))
    window = (slice(oy, oy + plan.height), slice(ox, ox + plan.width))
    frame = cv2.add(frame, np.ascontiguousarray(assets.noise_add[window]))
    return cv2.subtract(frame, np.ascontiguousarray(assets.noise_sub[window]))
