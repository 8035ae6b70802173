"""A kernelized correlation filter (KCF, Henriques et al. TPAMI 2015) with HOG-like and Lab
colour cell features and a search over a few scales (as SAMF does): the local tracker of classic-lt.

The filter only moves when asked: ``detect`` evaluates the learned model around a given
centre without changing any state, ``learn`` blends the appearance at a box into the model.
This split lets the long-term tracker decide when to trust and update it.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .features import cell_features


@dataclass(frozen=True)
class CorrelationFilterParams:
    padding: float = 1.5  # search window = target size * (1 + padding), KCF's default
    cell_size: int = 4  # pixels per feature cell
    hog_weight: float = 0.5  # feature group weights (see features.cell_features)
    colour_weight: float = 1.0
    lightness_weight: float = 1.0
    template_size: int = 96  # sqrt of the window area in pixels after resampling
    kernel_sigma: float = 0.5  # Gaussian kernel bandwidth (KCF's value for HOG)
    label_sigma_factor: float = 0.1  # regression target width relative to the target size
    regularisation: float = 1e-4  # ridge regression lambda
    learning_rate: float = 0.02  # model interpolation factor per update
    scale_step: float = 1.03  # search scales: step ** k for k in -(num_scales // 2) .. num_scales // 2
    num_scales: int = 3
    scale_penalty: float = 0.985  # response multiplier for a change of scale (prefers stability)
    min_scale: float = 0.2  # target size bounds relative to the initial size
    max_scale: float = 5.0


@dataclass(frozen=True)
class Detection:
    """Where the filter found the target: centre (x, y) and size (w, h) in frame pixels, the
    response peak (1.0 = the trained appearance exactly) and the peak-to-sidelobe ratio."""

    center: tuple[float, float]
    size: tuple[float, float]
    peak: float
    psr: float


class CorrelationFilter:
    """KCF with a Gaussian kernel on 12-channel cell features. Frames are RGB uint8."""

    def __init__(self, params: CorrelationFilterParams = CorrelationFilterParams()):
        self.params = params
        self.model_xf: np.ndarray | None = None  # (Hc, Wc//2+1, C) complex: learned appearance
        self.model_alphaf: np.ndarray | None = None  # (Hc, Wc//2+1) complex: dual coefficients

    def initialize(self, frame: np.ndarray, center, size) -> None:
        """Set the fixed window geometry from the first box and train the model from scratch."""
        p = self.params
        self.base_size = np.array(size, dtype=np.float64)
        window = self.base_size * (1.0 + p.padding)
        self.resample = p.template_size / np.sqrt(window.prod())  # template pixels per frame pixel
        cells = np.maximum(np.round(window * self.resample / p.cell_size), 4).astype(int)
        self.cells = (int(cells[0]), int(cells[1]))  # (Wc, Hc)
        self.template_px = (self.cells[0] * p.cell_size, self.cells[1] * p.cell_size)
        self.window_px = np.array(self.template_px, dtype=np.float64) / self.resample  # at scale 1
        self.cos_window = np.outer(np.hanning(self.cells[1] + 2)[1:-1],
                                   np.hanning(self.cells[0] + 2)[1:-1]).astype(np.float32)[:, :, None]
        sigma = np.sqrt(self.base_size.prod()) * p.label_sigma_factor * self.resample / p.cell_size
        ys = np.fft.ifftshift(np.arange(self.cells[1]) - self.cells[1] // 2)
        xs = np.fft.ifftshift(np.arange(self.cells[0]) - self.cells[0] // 2)
        labels = np.exp(-0.5 * (ys[:, None] ** 2 + xs[None, :] ** 2) / sigma ** 2)
        self.labels_f = np.fft.rfft2(labels)
        self.model_xf = None
        self.learn(frame, center, size, rate=1.0)

    def scale_of(self, size) -> float:
        return float(np.sqrt(np.prod(size) / self.base_size.prod()))

    def _features_f(self, frame: np.ndarray, center, scale: float) -> np.ndarray:
        """Windowed features of the region around ``center`` at ``scale``, in the Fourier domain."""
        win_w, win_h = self.window_px * scale
        patch = cv2.getRectSubPix(frame, (max(int(round(win_w)), 1), max(int(round(win_h)), 1)),
                                  (float(center[0]), float(center[1])))
        shrinking = patch.shape[1] > self.template_px[0]
        patch = cv2.resize(patch, self.template_px, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
        p = self.params
        features = cell_features(patch, p.cell_size, p.hog_weight, p.colour_weight, p.lightness_weight)
        features *= self.cos_window
        return np.fft.rfft2(features, axes=(0, 1))

    def _kernel_f(self, xf: np.ndarray, zf: np.ndarray) -> np.ndarray:
        """Gaussian kernel correlation of two feature maps, in the Fourier domain (KCF eq. 31)."""
        height, width = self.cells[1], self.cells[0]
        n = height * width * xf.shape[2]
        cross = np.fft.irfft2((np.conj(xf) * zf).sum(axis=2), s=(height, width))
        xx = _energy(xf, width) / (height * width)
        zz = _energy(zf, width) / (height * width)
        distance = np.maximum(xx + zz - 2.0 * cross, 0.0) / n
        return np.fft.rfft2(np.exp(-distance / self.params.kernel_sigma ** 2))

    def _response(self, zf: np.ndarray) -> np.ndarray:
        kzf = self._kernel_f(self.model_xf, zf)
        return np.fft.irfft2(self.model_alphaf * kzf, s=(self.cells[1], self.cells[0]))

    def detect(self, frame: np.ndarray, center, size) -> Detection:
        """Search around ``center`` at ``num_scales`` scales of ``size``; no state changes."""
        p = self.params
        scale = self.scale_of(size)
        best = None
        half = p.num_scales // 2
        for factor in sorted((p.scale_step ** k for k in range(-half, half + 1)), key=lambda f: abs(np.log(f))):
            trial = float(np.clip(scale * factor, p.min_scale, p.max_scale))
            response = self._response(self._features_f(frame, center, trial))
            peak = float(response.max()) * (1.0 if factor == 1.0 else p.scale_penalty)
            if best is None or peak > best[0]:
                best = (peak, trial, response)
        peak, trial, response = best
        dy, dx = _subpixel_peak(response)
        step = p.cell_size / self.resample * trial  # frame pixels per cell at this scale
        new_center = (float(center[0] + dx * step), float(center[1] + dy * step))
        new_size = tuple(float(v) for v in self.base_size * trial)
        return Detection(new_center, new_size, float(response.max()), _psr(response))

    def learn(self, frame: np.ndarray, center, size, rate: float | None = None) -> None:
        """Blend the appearance at (centre, size) into the model (``rate`` 1.0 = replace it)."""
        rate = self.params.learning_rate if rate is None else rate
        xf = self._features_f(frame, center, self.scale_of(size))
        alphaf = self.labels_f / (self._kernel_f(xf, xf) + self.params.regularisation)
        if self.model_xf is None or rate >= 1.0:
            self.model_xf, self.model_alphaf = xf, alphaf
        else:
            self.model_xf = (1.0 - rate) * self.model_xf + rate * xf
            self.model_alphaf = (1.0 - rate) * self.model_alphaf + rate * alphaf


def _energy(xf: np.ndarray, width: int) -> float:
    """Sum of squares of the spatial signal behind a half-spectrum ``rfft2`` (Parseval)."""
    power = np.abs(xf) ** 2
    full = 2.0 * power.sum() - power[:, 0].sum()
    if width % 2 == 0:
        full -= power[:, -1].sum()
    return float(full)


def _subpixel_peak(response: np.ndarray) -> tuple[float, float]:
    """Displacement (dy, dx) in cells of the response maximum, wrapped and refined by a parabola."""
    height, width = response.shape
    row, col = np.unravel_index(int(np.argmax(response)), response.shape)

    def refine(left, centre, right):
        denom = left - 2.0 * centre + right
        return 0.0 if abs(denom) < 1e-12 else float(np.clip(0.5 * (left - right) / denom, -0.5, 0.5))

    dy = row + refine(response[row - 1, col], response[row, col], response[(row + 1) % height, col])
    dx = col + refine(response[row, col - 1], response[row, col], response[row, (col + 1) % width])
    if dy > height / 2:
        dy -= height
    if dx > width / 2:
        dx -= width
    return float(dy), float(dx)


def _psr(response: np.ndarray, exclude: int = 2) -> float:
    """Peak-to-sidelobe ratio: (peak - mean) / std of the response outside the peak's neighbourhood."""
    row, col = np.unravel_index(int(np.argmax(response)), response.shape)
    shifted = np.roll(response, (response.shape[0] // 2 - row, response.shape[1] // 2 - col), axis=(0, 1))
    mask = np.ones_like(shifted, dtype=bool)
    cy, cx = response.shape[0] // 2, response.shape[1] // 2
    mask[max(cy - exclude, 0):cy + exclude + 1, max(cx - exclude, 0):cx + exclude + 1] = False
    sidelobe = shifted[mask]
    return float((response.max() - sidelobe.mean()) / (sidelobe.std() + 1e-9))
