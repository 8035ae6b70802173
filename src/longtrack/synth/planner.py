"""Plan a sequence: who is in it, how everything moves, and when events happen.

A plan holds per-frame numbers only (no pixels): rendering and ground truth both read it, which
is what makes frame ``i`` renderable without frames ``0..i-1``. Object positions are in frame
pixels (the camera follows the action; its pan and zoom move the background beneath, its shake
moves everything).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .annotate import OTHER_GRID, SAMPLE_GRID, Geometry, annotate
from .appearance import Appearance, ProceduralLooks
from .events import (Event, bump, exit_and_reentry, jump, occluder_path, schedule, side_offsets,
                     unit_shape_track)
from .motion import FreeMotion, MotionStyle, ar1, extents, shape_track, simulate, smoothstep
from .presets import (APPEARANCE_STREAM, CAMERA_STREAM, EFFECT_STREAM, LAYOUT_STREAM, MOTION_STREAM,
                      PresetConfig, stream)
from .scene import CameraPath, camera_path
from .shapes import CLASSES

# Tracks are rounded to these steps so that last-bit differences of transcendental functions
# between machines cannot reach the pixels.
PIXEL_STEP = 1.0 / 256.0
ANGLE_STEP = 2.0 ** -20
SHAKE_FRACTION = 0.012   # largest camera shake, as a fraction of min(width, height)
SPEED_FRACTION = 0.0035  # typical speed, as a fraction of the frame diagonal per frame


def _q(values: np.ndarray, step: float) -> np.ndarray:
    return np.round(np.asarray(values, dtype=np.float64) / step) * step


@dataclass
class ObjectPlan:
    """One object: identity, role (``target``, ``distractor``, ``other``, ``occluder``), looks, tracks (N,)."""

    identity: int
    role: str
    appearance: Appearance
    x: np.ndarray
    y: np.ndarray
    half_w: np.ndarray
    half_h: np.ndarray
    angle: np.ndarray
    drift: Appearance | None = None
    drift_kind: str | None = None
    drift_weight: np.ndarray | None = None  # (N,) 0 = own appearance .. 1 = ``drift``

    @property
    def class_name(self) -> str:
        return self.appearance.class_name

    def geometry(self) -> Geometry:
        grid = SAMPLE_GRID if self.role == "target" else OTHER_GRID  # the target's boxes matter most
        return Geometry.of(self.appearance.shape, self.x, self.y, self.half_w, self.half_h, self.angle, grid)

    def velocity(self, cut: float) -> np.ndarray:
        """On-screen velocity ``(N, 2)`` for motion blur; 0 across jumps longer than ``cut`` pixels."""
        xy = np.stack([self.x, self.y], axis=1)
        v = np.diff(xy, axis=0, prepend=xy[:1])
        v[np.hypot(v[:, 0], v[:, 1]) > cut] = 0.0
        return v


@dataclass
class Effects:
    gain: np.ndarray      # (N, 3) per-channel illumination gain
    defocus: np.ndarray   # (N,) Gaussian sigma in pixels, 0 = sharp
    noise_level: float    # sensor noise standard deviation (grey levels)


@dataclass
class SequencePlan:
    preset: PresetConfig
    seed: int
    width: int
    height: int
    objects: list[ObjectPlan]       # identity order: the target first
    draw_order: list[int]           # back to front
    camera: CameraPath
    shake: np.ndarray               # (N, 2)
    effects: Effects
    events: list[dict] = field(default_factory=list)
    # real backgrounds (lt-real): [(first frame, RealBackground), ...], a new one at each camera
    # cut; None: the procedural canvas
    background: list | None = None

    @property
    def num_frames(self) -> int:
        return len(self.shake)


def drawn_length(preset: PresetConfig, seed: int) -> int:
    """The number of frames of the sequence with ``seed`` (the layout stream's first draw)."""
    return int(stream(seed, LAYOUT_STREAM).integers(preset.num_frames[0], preset.num_frames[1] + 1))


def plan_sequence(preset: PresetConfig, seed: int, width: int, height: int,
                  num_frames: int | None = None, looks=None) -> SequencePlan:
    """``looks``: the look model (None: procedural; ``real_looks.RealLooks`` for lt-real). It
    decides appearance only: events, motion, camera and effects draw from their own streams."""
    model = ProceduralLooks() if looks is None else looks
    layout = stream(seed, LAYOUT_STREAM)
    n = int(layout.integers(preset.num_frames[0], preset.num_frames[1] + 1))  # = drawn_length()
    n = n if num_frames is None else int(num_frames)
    target_class = CLASSES[int(layout.integers(0, len(CLASSES)))]
    n_distractors = int(layout.integers(preset.same_class_distractors[0], preset.same_class_distractors[1] + 1))
    n_others = int(layout.integers(preset.other_objects[0], preset.other_objects[1] + 1))
    other_pool = [c for c in CLASSES if c != target_class]
    other_classes = [other_pool[int(layout.integers(0, len(other_pool)))] for _ in range(n_others)]
    events = schedule(layout, preset, n)

    looks = stream(seed, APPEARANCE_STREAM)
    target_look = model.target(target_class, looks)
    appearances = ([("target", target_look)]
                   + [("distractor", model.distractor(target_look, looks)) for _ in range(n_distractors)]
                   + [("other", model.other(c, target_look, looks)) for c in other_classes])
    drift_event = next((e for e in events if e.type == "appearance_drift"), None)
    drift_kind, drift_look = model.drift(target_look, looks) if drift_event else (None, None)

    short = min(width, height)
    shake_max = SHAKE_FRACTION * short
    rng = stream(seed, MOTION_STREAM)
    objects = _moving_objects(rng, appearances, n, width, height, preset, shake_max, events)
    target = objects[0]
    _plan_occluders(rng, lambda: model.occluder(looks), objects, events, width, height, shake_max,
                    preset.absent_below)

    cam_rng = stream(seed, CAMERA_STREAM)
    shake = _shake(cam_rng, n, events, shake_max)
    cuts = [e.start for e in events if e.type == "abrupt_motion" and e.parameters["camera_cut"]]
    camera = camera_path(cam_rng, n, width, height, cuts, shake_max)
    backgrounds = model.backgrounds(target_look, cuts, looks)
    effects = _effects(stream(seed, EFFECT_STREAM), n, events)
    if drift_event is not None:
        w = smoothstep((np.arange(n) - drift_event.start + 0.5) / max(drift_event.end - drift_event.start, 1))
        target.drift, target.drift_kind, target.drift_weight = drift_look, drift_kind, np.round(w * 256) / 256
        drift_event.parameters["kind"] = drift_kind

    background = [o.identity for o in objects if o.role in ("distractor", "other")]
    background = [background[int(i)] for i in rng.permutation(len(background))]
    draw_order = background + [target.identity] + [o.identity for o in objects if o.role == "occluder"]
    for obj in objects:
        obj.x, obj.y = _q(obj.x + shake[:, 0], PIXEL_STEP), _q(obj.y + shake[:, 1], PIXEL_STEP)
        obj.half_w, obj.half_h = _q(obj.half_w, PIXEL_STEP), _q(obj.half_h, PIXEL_STEP)
        obj.angle = _q(obj.angle, ANGLE_STEP)
    camera = CameraPath(_q(camera.centre_x, PIXEL_STEP), _q(camera.centre_y, PIXEL_STEP), _q(camera.zoom, 2.0 ** -16))
    return SequencePlan(preset, seed, width, height, objects, draw_order, camera, _q(shake, PIXEL_STEP),
                        effects, [e.record() for e in sorted(events, key=lambda e: (e.start, e.type))],
                        backgrounds)


def _bounds(ext_x, ext_y, width, height, margin):
    lo_x, lo_y = ext_x + margin, ext_y + margin
    return lo_x, width - lo_x, lo_y, height - lo_y


def _moving_objects(rng, appearances, n, width, height, preset, shake_max, events) -> list[ObjectPlan]:
    """Target, distractors and other objects with their tracks; the target follows the events."""
    short, unit = min(width, height), SPEED_FRACTION * math.hypot(width, height)
    target_diameter = short * rng.uniform(*preset.target_size)
    target_aspect = math.exp(rng.uniform(math.log(0.6), math.log(1.6)))
    objects = []
    for identity, (role, look) in enumerate(appearances):
        if role == "target":
            diameter, aspect = target_diameter, target_aspect
        elif role == "distractor":
            diameter, aspect = target_diameter * rng.uniform(0.8, 1.2), target_aspect * rng.uniform(0.9, 1.1)
        else:
            diameter, aspect = short * rng.uniform(0.08, 0.3), math.exp(rng.uniform(math.log(0.5), math.log(2.0)))
        if look.aspect is not None:  # a real cut-out keeps its proportions (the draws above still happen)
            aspect = look.aspect
        track = shape_track(rng, n, diameter, aspect, 0.45 * short)
        ext_x, ext_y = extents(look.shape.hull(), track)
        if role == "target":
            bounds = _bounds(ext_x, ext_y, width, height, shake_max + 1.0)  # never leaves by itself
            style = MotionStyle(speed=unit * rng.uniform(0.7, 1.3))
        else:
            bounds = _bounds(0.2 * ext_x, 0.2 * ext_y, width, height, 0.0)  # may leave the view in part
            style = MotionStyle(speed=unit * rng.uniform(0.3, 1.2), fast_chance=0.06 if role == "other" else 0.12)
        motion = FreeMotion(rng, n, style, bounds)
        start = _start_position(rng, bounds, objects[0] if objects else None, ext_x[0], ext_y[0])
        forced = _target_events(rng, events, bounds, ext_x, ext_y, width, height, shake_max, style.speed) \
            if role == "target" else None
        xy, _ = simulate(motion, n, start, forced)
        objects.append(ObjectPlan(identity, role, look, xy[:, 0], xy[:, 1], track.half_w, track.half_h, track.angle))
    return objects


def _start_position(rng, bounds, target: ObjectPlan | None, ext_x: float, ext_y: float) -> np.ndarray:
    lo_x, hi_x, lo_y, hi_y = (float(b[0]) for b in bounds)
    if target is None:  # the target starts well inside
        return np.array([rng.uniform(lo_x + 0.2 * (hi_x - lo_x), hi_x - 0.2 * (hi_x - lo_x)),
                         rng.uniform(lo_y + 0.2 * (hi_y - lo_y), hi_y - 0.2 * (hi_y - lo_y))])
    best, best_dist = None, -1.0  # others start away from the target: the first box is unambiguous
    for _ in range(24):
        p = np.array([rng.uniform(lo_x, hi_x), rng.uniform(lo_y, hi_y)])
        dist = math.hypot(p[0] - target.x[0], p[1] - target.y[0])
        if dist > best_dist:
            best, best_dist = p, dist
        if dist > 1.3 * (max(ext_x, ext_y) + max(target.half_w[0], target.half_h[0]) * 1.5):
            break
    return best


def _target_events(rng, events: list[Event], bounds, ext_x, ext_y, width, height, shake_max, speed):
    """The ``forced`` hook of ``simulate``: exits, re-entries and jumps take over the target."""
    by_start = {e.start: e for e in events if e.type in ("out_of_view", "abrupt_motion")}
    n = len(ext_x)

    def at(t):
        return tuple(float(b[min(t, n - 1)]) for b in bounds)

    def forced(t, pos, vel):
        event = by_start.get(t)
        if event is None:
            return None
        if event.type == "abrupt_motion":
            return jump(rng, event, pos, width, height, at(t), speed)
        window = slice(event.start, min(event.end, n))
        margin_x = float(ext_x[window].max()) + shake_max + 2.0
        margin_y = float(ext_y[window].max()) + shake_max + 2.0
        return exit_and_reentry(rng, event, pos, vel, width, height, margin_x, margin_y, at(event.end), speed)

    return forced


def _plan_occluders(rng, new_look, objects, events, width, height, shake_max, absent_below) -> None:
    """One occluder per occlusion event; partial occluders are pulled back until the target stays visible."""
    target = objects[0]
    n = len(target.x)
    rel = Geometry.of(target.appearance.shape, np.zeros(n), np.zeros(n), target.half_w, target.half_h, target.angle)
    rel_box = rel.outline_boxes()
    target_xy = np.stack([target.x, target.y], axis=1)
    for event in [e for e in events if e.type in ("full_occlusion", "partial_occlusion")]:
        window = slice(event.start, event.end)
        radius = float(np.max(np.hypot(np.maximum(-rel_box[window, 0], rel_box[window, 2]),
                                       np.maximum(-rel_box[window, 1], rel_box[window, 3]))))
        look = new_look()
        half_w, half_h = radius * rng.uniform(1.15, 1.35), radius * rng.uniform(1.15, 1.35)
        if rng.uniform() < 0.5:
            half_h *= rng.uniform(1.5, 3.0)  # a pole
        else:
            half_w *= rng.uniform(1.0, 2.0)  # a panel
        identity = len(objects)
        parked = np.array([-10.0 * width * (identity + 1), -10.0 * height])
        if event.type == "full_occlusion":
            event.parameters["heading"] = rng.uniform(0, 2 * math.pi)
            offsets = np.zeros((n, 2))
            xy = occluder_path(event, target_xy, offsets, math.hypot(half_w, half_h), width, height,
                               shake_max + 2.0, parked)
        else:
            side = ("left", "right", "top", "bottom")[int(rng.integers(0, 4))]
            vertical_pass = side in ("left", "right")
            event.parameters["heading"] = (math.pi / 2 if vertical_pass else 0.0) + (math.pi if rng.uniform() < 0.5 else 0.0)
            coverage = rng.uniform(0.25, 0.5)
            for attempt in range(6):
                offsets = side_offsets(side, coverage, rel_box, (half_w, half_h))
                xy = occluder_path(event, target_xy, offsets, math.hypot(half_w, half_h), width, height,
                                   shake_max + 2.0, parked)
                seen = _target_visibility(target, xy, half_w, half_h, look, window, width, height, absent_below)
                if seen.min() >= absent_below + 0.15:
                    break
                coverage = coverage * 0.6 if attempt < 4 else 0.0
            event.parameters.update({"side": side, "coverage": round(float(coverage), 3)})
        event.parameters.update({"occluder": identity, "heading": round(math.degrees(event.parameters["heading"]), 2),
                                 "occluder_size": [round(2 * half_w, 2), round(2 * half_h, 2)]})
        track = unit_shape_track(n, half_w, half_h)
        objects.append(ObjectPlan(identity, "occluder", look, xy[:, 0], xy[:, 1], track.half_w, track.half_h,
                                  track.angle))


def _target_visibility(target: ObjectPlan, occluder_xy, half_w, half_h, look, window, width, height, threshold):
    frames = np.arange(window.start, window.stop)
    t_geom = target.geometry().sliced(frames)
    o_geom = Geometry.of(look.shape, occluder_xy[frames, 0], occluder_xy[frames, 1], np.full(len(frames), half_w),
                         np.full(len(frames), half_h), np.zeros(len(frames)))
    return annotate([t_geom, o_geom], [0, 1], width, height, threshold)[0].visible_fraction


def _shake(rng, n: int, events: list[Event], shake_max: float) -> np.ndarray:
    shake = np.zeros((n, 2))
    for event in [e for e in events if e.type == "camera_shake"]:
        amplitude = shake_max * rng.uniform(0.5, 1.0)
        length = event.end - event.start
        jitter = ar1(rng.standard_normal((length, 2)), 0.5) / 1.15
        envelope = np.sin(np.pi * (np.arange(length) + 0.5) / length)[:, None]
        shake[event.start:event.end] += np.clip(amplitude * envelope * jitter, -amplitude, amplitude)
        event.parameters["amplitude"] = round(amplitude, 2)
    return np.clip(shake, -shake_max, shake_max)


def _effects(rng, n: int, events: list[Event]) -> Effects:
    gain = np.ones((n, 3))
    defocus = np.zeros(n)
    for event in events:
        if event.type == "illumination":
            level = rng.uniform(0.45, 0.7) if rng.uniform() < 0.5 else rng.uniform(1.3, 1.6)
            target_gain = level * rng.uniform(0.92, 1.08, 3)
            env = bump(n, event.start, event.end)[:, None]
            gain *= 1.0 + env * (target_gain - 1.0)
            event.parameters["gain"] = [round(float(g), 3) for g in target_gain]
        elif event.type == "blur":
            sigma = rng.uniform(1.2, 3.0)
            defocus = np.maximum(defocus, bump(n, event.start, event.end) * sigma)
            event.parameters["sigma"] = round(sigma, 3)
    return Effects(_q(gain, 1.0 / 256.0), _q(defocus, 1.0 / 16.0), float(rng.uniform(1.0, 3.0)))
