"""A constant-velocity Kalman filter on boxes, as SORT / DeepSORT / JDE use for MOT association.

State ``(cx, cy, a, h, vcx, vcy, va, vh)``: centre, aspect ratio ``w / h``, height and their
velocities. Process and measurement noise scale with the box height (DeepSORT's weights 1/20 for
position and 1/160 for velocity), so the gate is size-relative. ``gating_distance`` is the squared
Mahalanobis distance of measurements from the predicted state; ``CHI2_95[4]`` (9.4877) is the 95%
gate for the 4 measured dimensions.
"""
from __future__ import annotations

import numpy as np

__all__ = ["KalmanBoxFilter", "CHI2_95", "xyxy_to_xyah", "xyah_to_xyxy"]

# 0.95 quantile of the chi-square distribution with N degrees of freedom.
CHI2_95 = {1: 3.8415, 2: 5.9915, 3: 7.8147, 4: 9.4877}


def xyxy_to_xyah(boxes: np.ndarray) -> np.ndarray:
    """``[..., 4]`` corners -> ``[..., 4]`` (cx, cy, w/h, h)."""
    b = np.asarray(boxes, dtype=np.float64)
    w, h = b[..., 2] - b[..., 0], np.maximum(b[..., 3] - b[..., 1], 1e-6)
    return np.stack([(b[..., 0] + b[..., 2]) / 2, (b[..., 1] + b[..., 3]) / 2, w / h, h], axis=-1)


def xyah_to_xyxy(state: np.ndarray) -> np.ndarray:
    """``[..., >=4]`` (cx, cy, a, h, ...) -> ``[..., 4]`` corners."""
    s = np.asarray(state, dtype=np.float64)
    h = np.maximum(s[..., 3], 1e-6)
    w = s[..., 2] * h
    return np.stack([s[..., 0] - w / 2, s[..., 1] - h / 2, s[..., 0] + w / 2, s[..., 1] + h / 2], axis=-1)


class KalmanBoxFilter:
    """Constant-velocity model in (cx, cy, a, h); one instance serves every track (it holds no state)."""

    def __init__(self, std_position: float = 1 / 20, std_velocity: float = 1 / 160):
        self.motion = np.eye(8)
        self.motion[:4, 4:] = np.eye(4)  # x_{t+1} = x_t + v_t
        self.observe = np.eye(4, 8)
        self.std_position = std_position
        self.std_velocity = std_velocity

    def initiate(self, measurement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A new track at ``(cx, cy, a, h)`` with zero velocity: ``(mean [8], covariance [8, 8])``."""
        mean = np.concatenate([measurement, np.zeros(4)])
        h = measurement[3]
        std = [2 * self.std_position * h, 2 * self.std_position * h, 1e-2, 2 * self.std_position * h,
               10 * self.std_velocity * h, 10 * self.std_velocity * h, 1e-5, 10 * self.std_velocity * h]
        return mean, np.diag(np.square(std))

    def predict(self, mean: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = mean[3]
        std = [self.std_position * h, self.std_position * h, 1e-2, self.std_position * h,
               self.std_velocity * h, self.std_velocity * h, 1e-5, self.std_velocity * h]
        mean = self.motion @ mean
        covariance = self.motion @ covariance @ self.motion.T + np.diag(np.square(std))
        return mean, covariance

    def project(self, mean: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The predicted measurement and its covariance (with measurement noise)."""
        h = mean[3]
        std = [self.std_position * h, self.std_position * h, 1e-1, self.std_position * h]
        return self.observe @ mean, self.observe @ covariance @ self.observe.T + np.diag(np.square(std))

    def update(self, mean: np.ndarray, covariance: np.ndarray, measurement: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        projected, projected_cov = self.project(mean, covariance)
        # numpy's solve: scipy's triangular solvers cost ~40 ms per 4x4 call on a busy machine.
        gain = np.linalg.solve(projected_cov, (covariance @ self.observe.T).T).T
        mean = mean + gain @ (measurement - projected)
        covariance = covariance - gain @ projected_cov @ gain.T
        return mean, covariance

    def gating_distance(self, mean: np.ndarray, covariance: np.ndarray, measurements: np.ndarray,
                        only_position: bool = False) -> np.ndarray:
        """Squared Mahalanobis distance of ``[N, 4]`` measurements from the predicted one: ``[N]``."""
        projected, projected_cov = self.project(mean, covariance)
        dims = 2 if only_position else 4
        diff = np.asarray(measurements, dtype=np.float64)[:, :dims] - projected[:dims]
        solved = np.linalg.solve(projected_cov[:dims, :dims], diff.T)  # [dims, N]
        return np.sum(diff.T * solved, axis=0)
