"""Events: when they happen, and the paths they impose on the target and on occluders.

Event types (recorded in a sequence's ``events`` as ``{"type", "start", "end", "parameters"}``,
``end`` exclusive):

* ``out_of_view``: the target leaves the frame, stays out for ``gap`` frames (``out_start`` ..
  ``out_end``), and re-enters at a different border or a distant point of the same border;
* ``full_occlusion`` / ``partial_occlusion``: an occluder arrives, covers the target (all of it,
  or a side of it) while following it, and leaves;
* ``abrupt_motion``: the target jumps to a distant position in one frame (with a camera cut
  when ``camera_cut``);
* ``appearance_drift`` (palette or texture), ``illumination``, ``blur`` (defocus), ``camera_shake``.

The first four move the target or cover it; they never overlap each other.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import LongtrackError
from .motion import ShapeTrack, hermite, smoothstep
from .presets import PresetConfig

EFFECTS = ("appearance_drift", "illumination", "blur", "camera_shake")
BORDERS = ("left", "right", "top", "bottom")
_OUTWARD = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "top": (0.0, -1.0), "bottom": (0.0, 1.0)}


@dataclass
class Event:
    type: str
    start: int
    phases: tuple[int, ...]  # out_of_view: (exit, gap, enter); occlusions: (arrive, cover, leave)
    parameters: dict = field(default_factory=dict)

    @property
    def end(self) -> int:
        return self.start + sum(self.phases)

    def record(self) -> dict:
        return {"type": self.type, "start": int(self.start), "end": int(self.end), "parameters": self.parameters}


def schedule(rng: np.random.Generator, preset: PresetConfig, n: int) -> list[Event]:
    """Draw the events of one sequence of ``n`` frames. Geometric events are placed in order with
    free frames between them; the first ``lead`` frames are always event-free (tracker start-up)."""
    geometric: list[Event] = []
    for _ in range(int(rng.integers(preset.out_of_view[0], preset.out_of_view[1] + 1))):
        phases = (preset.exit_frames.draw(rng, n), preset.gap_frames.draw(rng, n), preset.exit_frames.draw(rng, n))
        geometric.append(Event("out_of_view", 0, phases))
    for kind in ("full_occlusion", "partial_occlusion"):
        low, high = getattr(preset, kind)
        for _ in range(int(rng.integers(low, high + 1))):
            phases = (preset.transition_frames.draw(rng, n), preset.occlusion_frames.draw(rng, n),
                      preset.transition_frames.draw(rng, n))
            geometric.append(Event(kind, 0, phases))
    for _ in range(int(rng.integers(preset.abrupt_motion[0], preset.abrupt_motion[1] + 1))):
        geometric.append(Event("abrupt_motion", 0, (1,), {"camera_cut": bool(rng.uniform() < 0.5)}))

    lead, tail, spacing = max(20, round(0.04 * n)), max(10, round(0.02 * n)), max(8, round(0.01 * n))
    busy = sum(sum(e.phases) for e in geometric) + spacing * max(len(geometric) - 1, 0)
    free = n - lead - tail - busy
    if free < 0:
        raise LongtrackError(f"{n} frames are too few for the {preset.name!r} preset's events "
                             f"(this draw needs at least {n - free}); use more frames")
    order = rng.permutation(len(geometric))
    gaps = np.floor(rng.dirichlet(np.ones(len(geometric) + 1)) * free).astype(int)
    t = lead + int(gaps[0])
    placed = []
    for k, i in enumerate(order):
        event = geometric[int(i)]
        event.start = t
        t = event.end + spacing + int(gaps[k + 1])
        placed.append(event)

    for kind in EFFECTS:
        low, high = getattr(preset, kind)
        duration_range = preset.shake_frames if kind == "camera_shake" else preset.effect_frames
        for _ in range(int(rng.integers(low, high + 1))):
            duration = min(duration_range.draw(rng, n), n - lead)
            start = int(rng.integers(lead, max(lead + 1, n - duration)))
            placed.append(Event(kind, start, (duration,)))
    return sorted(placed, key=lambda e: (e.start, e.type))


def _border_point(border: str, along: float, margin: float, width: int, height: int) -> np.ndarray:
    """A point ``margin`` pixels outside ``border``, at ``along`` pixels along it."""
    return np.array({"left": (-margin, along), "right": (width + margin, along),
                     "top": (along, -margin), "bottom": (along, height + margin)}[border])


def _border_length(border: str, width: int, height: int) -> int:
    return height if border in ("left", "right") else width


def exit_and_reentry(rng, event: Event, pos, vel, width, height, margin_x, margin_y, bounds_at_end, speed):
    """Positions for the frames of an ``out_of_view`` event and the velocity after it.

    ``margin_x``/``margin_y``: how far outside a border the centre must be for the whole target
    (and the camera shake) to be out of view.
    """
    exit_frames, gap, enter_frames = event.phases
    dist = np.array([pos[0], width - pos[0], pos[1], height - pos[1]])
    weights = 1.0 / (np.maximum(dist, 0.0) + 0.1 * min(width, height))
    border = BORDERS[int(rng.choice(4, p=weights / weights.sum()))]
    axis_along = 1 if border in ("left", "right") else 0
    length = _border_length(border, width, height)
    along = float(np.clip(pos[axis_along] + vel[axis_along] * exit_frames + rng.normal(0, 0.05 * length),
                          0.1 * length, 0.9 * length))
    margin = margin_x if border in ("left", "right") else margin_y
    exit_point = _border_point(border, along, margin, width, height)
    outward = np.array(_OUTWARD[border])
    span = float(np.hypot(*(exit_point - pos)))
    taus = np.arange(1, exit_frames + 1) / exit_frames
    leaving = hermite(pos, vel * exit_frames * 0.5, exit_point, outward * span, taus)
    waiting = np.repeat(exit_point[None], gap, axis=0)

    if rng.uniform() < 0.7:  # another border ...
        others = [b for b in BORDERS if b != border]
        border2 = others[int(rng.integers(0, 3))]
        length2 = _border_length(border2, width, height)
        along2 = rng.uniform(0.15, 0.85) * length2
    else:  # ... or far along the same one
        border2, length2 = border, length
        along2 = (rng.uniform(0.1, max(0.1, along / length - 0.45)) if along > length / 2
                  else rng.uniform(min(0.9, along / length + 0.45), 0.9)) * length
    margin2 = margin_x if border2 in ("left", "right") else margin_y
    entry_point = _border_point(border2, along2, margin2, width, height)
    inward = -np.array(_OUTWARD[border2])
    depth = rng.uniform(0.2, 0.4) * (width if border2 in ("left", "right") else height)
    lateral = np.array([inward[1], inward[0]]) * rng.normal(0, 0.08 * length2)
    lo_x, hi_x, lo_y, hi_y = bounds_at_end
    inside = entry_point + inward * (margin2 + depth) + lateral
    inside = np.array([min(max(inside[0], lo_x), max(hi_x, lo_x)), min(max(inside[1], lo_y), max(hi_y, lo_y))])
    end_velocity = inward * speed * rng.uniform(0.3, 1.0)
    taus = np.arange(1, enter_frames + 1) / enter_frames
    entering = hermite(entry_point, inward * float(np.hypot(*(inside - entry_point))), inside,
                       end_velocity * enter_frames, taus)
    event.parameters.update({
        "exit_border": border, "exit_point": _rounded(exit_point), "gap": int(gap),
        "out_start": int(event.start + exit_frames), "out_end": int(event.start + exit_frames + gap),
        "reentry_border": border2, "reentry_point": _rounded(entry_point),
        "reentry_distance": round(float(np.hypot(*(entry_point - exit_point))), 2)})
    return np.concatenate([leaving, waiting, entering]), end_velocity


def jump(rng, event: Event, pos, width, height, bounds, speed):
    """The new position after an ``abrupt_motion`` event: far from the old one, inside the bounds."""
    lo_x, hi_x, lo_y, hi_y = bounds
    best, best_dist = None, -1.0
    for _ in range(32):
        candidate = np.array([rng.uniform(lo_x, max(hi_x, lo_x)), rng.uniform(lo_y, max(hi_y, lo_y))])
        dist = float(np.hypot(*(candidate - pos)))
        if dist > best_dist:
            best, best_dist = candidate, dist
        if dist >= 0.35 * math.hypot(width, height):
            break
    heading = rng.uniform(0, 2 * math.pi)
    event.parameters.update({"from": _rounded(pos), "to": _rounded(best), "distance": round(best_dist, 2)})
    return best[None], np.array([math.cos(heading), math.sin(heading)]) * speed * 0.5


def _exit_distance(point, direction, width, height) -> float:
    """How far from ``point`` along unit ``direction`` the frame rectangle ends."""
    steps = []
    for axis, size in ((0, width), (1, height)):
        if abs(direction[axis]) > 1e-9:
            edge = size if direction[axis] > 0 else 0.0
            steps.append((edge - point[axis]) / direction[axis])
    return max(min(steps), 0.0)


def occluder_path(event: Event, target_xy: np.ndarray, offsets: np.ndarray, radius: float,
                  width: int, height: int, margin: float, parked: np.ndarray) -> np.ndarray:
    """Centre track ``(N, 2)`` of the occluder of an occlusion event.

    The occluder keeps ``target + offset`` (``offsets``: ``(N, 2)``) plus a slide along the
    event's heading: it arrives from outside the frame, covers the target while following it,
    then slides out on the opposite side. Relative to the target it only ever moves along the
    heading, so a side occluder never covers more than during the cover phase. It is parked far
    outside the view before and after.
    """
    arrive, cover, leave = event.phases
    s = event.start
    glued = target_xy + offsets
    heading = event.parameters["heading"]
    direction = np.array([math.cos(heading), math.sin(heading)])
    xy = np.repeat(parked[None], len(target_xy), axis=0)
    first, last = s + arrive, s + arrive + cover - 1
    away_in = _exit_distance(glued[s], -direction, width, height) + radius + margin
    away_out = _exit_distance(glued[event.end - 1], direction, width, height) + radius + margin
    slide_in = (1.0 - smoothstep(np.arange(arrive) / arrive))[:, None] * away_in
    xy[s:first] = glued[s:first] - direction * slide_in
    xy[first:last + 1] = glued[first:last + 1]
    slide_out = smoothstep(np.arange(1, leave + 1) / leave)[:, None] * away_out
    xy[last + 1:event.end] = glued[last + 1:event.end] + direction * slide_out
    return xy


def side_offsets(side: str, coverage: float, rel_box: np.ndarray, occluder_half: tuple[float, float]) -> np.ndarray:
    """Occluder centre offsets ``(N, 2)`` that cover ``coverage`` of the target's box from ``side``.

    ``rel_box``: the target's box relative to its centre per frame, ``(N, 4)`` as (x1, y1, x2, y2).
    """
    hw, hh = occluder_half
    x1, y1, x2, y2 = rel_box.T
    off = np.zeros((len(rel_box), 2))
    if side == "right":
        off[:, 0] = x2 - coverage * (x2 - x1) + hw
    elif side == "left":
        off[:, 0] = x1 + coverage * (x2 - x1) - hw
    elif side == "bottom":
        off[:, 1] = y2 - coverage * (y2 - y1) + hh
    else:
        off[:, 1] = y1 + coverage * (y2 - y1) - hh
    return off


def bump(n: int, start: int, end: int, ramp: float = 1.0 / 3.0) -> np.ndarray:
    """``(n,)`` envelope: 0 outside ``[start, end)``, rising to 1, holding, falling back to 0."""
    env = np.zeros(n)
    length = max(end - start, 1)
    x = (np.arange(start, min(end, n)) - start + 0.5) / length
    env[start:min(end, n)] = np.minimum(smoothstep(x / ramp), smoothstep((1 - x) / ramp))
    return env


def _rounded(point) -> list[float]:
    return [round(float(v), 2) for v in point]


def unit_shape_track(n: int, half_w: float, half_h: float) -> ShapeTrack:
    return ShapeTrack(np.full(n, half_w), np.full(n, half_h), np.zeros(n))
