"""Object motion: smooth random motion with acceleration, log-scale size/aspect walks, rotation drift.

Positions are in frame pixels (continuous coordinates, ``x`` right, ``y`` down). All noise is
drawn up front from the object's stream, so a track is a pure function of its seed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def ar1(noise: np.ndarray, decay: float, start: float = 0.0) -> np.ndarray:
    """``y[t] = decay * y[t-1] + noise[t]`` along axis 0, with ``y[-1] = start`` (a plain loop:
    the same operations in the same order on every machine)."""
    noise = np.asarray(noise, dtype=np.float64)
    out = np.empty_like(noise)
    prev = np.full(noise.shape[1:], float(start)) if noise.ndim > 1 else float(start)
    for t in range(len(noise)):
        prev = decay * prev + noise[t]
        out[t] = prev
    return out


def mean_reverting_walk(rng: np.random.Generator, n: int, mean: float, theta: float, sigma: float,
                        start: float | None = None) -> np.ndarray:
    """``x[t] = x[t-1] + theta * (mean - x[t-1]) + sigma * noise``: a random walk that never strays far."""
    start = mean if start is None else start
    noise = sigma * rng.standard_normal(n)
    noise[0] = (start - mean) * theta  # the walk starts exactly at ``start``
    return mean + ar1(noise, 1.0 - theta, start - mean)


@dataclass
class ShapeTrack:
    """Per-frame half-extents (unrotated) and rotation of one object, each ``(N,)``."""

    half_w: np.ndarray
    half_h: np.ndarray
    angle: np.ndarray  # radians, positive turns x towards y (clockwise on screen)


def shape_track(rng: np.random.Generator, n: int, diameter: float, aspect: float, max_diameter: float,
                size_sigma: float = 0.012, rotation: float = 0.3) -> ShapeTrack:
    """Size on a log-scale walk around ``diameter``, aspect on a log walk, rotation drifting near 0."""
    log_size = mean_reverting_walk(rng, n, math.log(diameter), 0.005, size_sigma)
    size = np.minimum(np.exp(np.clip(log_size, math.log(diameter) - 0.7, math.log(diameter) + 0.7)), max_diameter)
    log_aspect = mean_reverting_walk(rng, n, math.log(aspect), 0.005, 0.006)
    root = np.exp(log_aspect / 2.0)
    angle = np.clip(mean_reverting_walk(rng, n, rng.uniform(-0.1, 0.1), 0.004, 0.008), -rotation, rotation)
    return ShapeTrack(size / 2.0 * root, size / 2.0 / root, angle)


def extents(hull: np.ndarray, track: ShapeTrack) -> tuple[np.ndarray, np.ndarray]:
    """Largest distance of the outline from the centre along x and along y, per frame: ``(N,), (N,)``."""
    c, s = np.cos(track.angle)[:, None], np.sin(track.angle)[:, None]
    u, v = hull[None, :, 0], hull[None, :, 1]
    hw, hh = track.half_w[:, None], track.half_h[:, None]
    dx = c * hw * u - s * hh * v
    dy = s * hw * u + c * hh * v
    return np.abs(dx).max(axis=1), np.abs(dy).max(axis=1)


@dataclass
class MotionStyle:
    """How an object moves: typical speed (pixels per frame) and how often it changes its mind."""

    speed: float
    fast_chance: float = 0.12   # share of segments at 4-7x speed (motion blur)
    segment: tuple[int, int] = (40, 160)
    pull: float = 0.06          # how fast velocity follows the goal (acceleration)
    jitter: float = 0.15        # velocity noise, in units of ``speed``


def goal_velocities(rng: np.random.Generator, n: int, style: MotionStyle) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-constant goal velocity ``(N, 2)``: a new heading and speed every segment; and
    for each frame the end (exclusive) of its segment, ``(N,)``."""
    goals = np.zeros((n, 2))
    segment_end = np.zeros(n, dtype=int)
    t = 0
    while t < n:
        length = int(rng.integers(style.segment[0], style.segment[1] + 1))
        speed = style.speed * math.exp(rng.uniform(math.log(0.2), math.log(2.5)))
        if rng.uniform() < style.fast_chance:
            speed = style.speed * rng.uniform(4.0, 7.0)
        heading = rng.uniform(0, 2 * math.pi)
        goals[t:t + length] = (speed * math.cos(heading), speed * math.sin(heading))
        segment_end[t:t + length] = min(t + length, n)
        t += length
    return goals, segment_end


class FreeMotion:
    """Velocity that accelerates towards a wandering goal, bounced inside per-frame bounds.

    ``bounds`` are ``(lo_x, hi_x, lo_y, hi_y)`` arrays of shape ``(N,)``: where the centre may be.
    """

    def __init__(self, rng: np.random.Generator, n: int, style: MotionStyle, bounds):
        self.goals, self.segment_end = goal_velocities(rng, n, style)
        self.noise = rng.standard_normal((n, 2)) * style.jitter * style.speed
        self.pull = style.pull
        self.bounds = bounds

    def step(self, t: int, pos: np.ndarray, vel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        vel = vel + self.pull * (self.goals[t] - vel) + self.noise[t]
        pos = pos + vel
        lo_x, hi_x, lo_y, hi_y = (b[t] for b in self.bounds)
        segment = slice(t, self.segment_end[t])
        for axis, lo, hi in ((0, lo_x, hi_x), (1, lo_y, hi_y)):
            if lo >= hi:
                pos[axis] = (lo + hi) / 2.0
                vel[axis] = 0.0
            elif pos[axis] < lo:  # bounce, and head away from the wall for the rest of the segment
                pos[axis] = min(2 * lo - pos[axis], hi)
                vel[axis] = abs(vel[axis])
                self.goals[segment, axis] = np.abs(self.goals[segment, axis])
            elif pos[axis] > hi:
                pos[axis] = max(2 * hi - pos[axis], lo)
                vel[axis] = -abs(vel[axis])
                self.goals[segment, axis] = -np.abs(self.goals[segment, axis])
        return pos, vel

    def clamp(self, t: int, pos: np.ndarray) -> np.ndarray:
        lo_x, hi_x, lo_y, hi_y = (b[t] for b in self.bounds)
        return np.array([min(max(pos[0], lo_x), max(hi_x, lo_x)), min(max(pos[1], lo_y), max(hi_y, lo_y))])


def simulate(motion: FreeMotion, n: int, start: np.ndarray, forced=None) -> tuple[np.ndarray, np.ndarray]:
    """Run ``motion`` for ``n`` frames from ``start``; ``(positions (N, 2), velocities (N, 2))``.

    ``forced(t, pos, vel)`` may take over at frame ``t``: it returns ``(positions (k, 2), end_velocity)``
    for frames ``t .. t+k-1`` (an exit, a jump...), after which free motion resumes.
    """
    pos = np.asarray(start, dtype=np.float64)
    vel = np.zeros(2)
    positions = np.zeros((n, 2))
    positions[0] = pos
    t = 1
    while t < n:
        override = forced(t, pos, vel) if forced is not None else None
        if override is not None:
            path, vel = override
            k = min(len(path), n - t)
            positions[t:t + k] = path[:k]
            pos = path[k - 1]
            t += k
            continue
        pos, vel = motion.step(t, pos, vel)
        positions[t] = pos
        t += 1
    velocities = np.diff(positions, axis=0, prepend=positions[:1])
    return positions, velocities


def hermite(p0, m0, p1, m1, taus: np.ndarray) -> np.ndarray:
    """Cubic Hermite curve from ``p0`` (tangent ``m0``) to ``p1`` (tangent ``m1``) at ``taus`` in [0, 1]."""
    t = np.asarray(taus, dtype=np.float64)[:, None]
    t2, t3 = t * t, t * t * t
    return ((2 * t3 - 3 * t2 + 1) * np.asarray(p0) + (t3 - 2 * t2 + t) * np.asarray(m0)
            + (-2 * t3 + 3 * t2) * np.asarray(p1) + (t3 - t2) * np.asarray(m1))


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)
