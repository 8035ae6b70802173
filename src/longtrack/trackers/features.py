"""Hand-crafted dense features for the correlation filter: HOG-like orientation histograms
and Lab colour, both pooled over square cells.

``cell_features(patch, cell)``: ``patch`` is an ``H x W x 3`` uint8 RGB array with H and W
multiples of ``cell``; the result is ``(H // cell, W // cell, 12)`` float32: 9 contrast-
normalised unsigned gradient-orientation channels and 3 centred Lab channels.
"""
from __future__ import annotations

import cv2
import numpy as np

NUM_ORIENTATIONS = 9
HOG_CLIP = 0.2  # Dalal & Triggs' clipping of normalised histogram values


def orientation_histograms(gray: np.ndarray, cell: int) -> np.ndarray:
    """Cell-pooled gradient magnitude per unsigned orientation bin, ``(H/cell, W/cell, 9)``,
    soft-binned between the two nearest orientations and normalised by the energy of the
    surrounding 3x3 cells (an approximation of HOG's block normalisation)."""
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=1)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=1)
    magnitude, angle = cv2.cartToPolar(gx, gy)  # angle in radians, [0, 2 pi)
    position = (angle % np.pi) * (NUM_ORIENTATIONS / np.pi)
    lower = np.floor(position).astype(np.int32) % NUM_ORIENTATIONS
    upper = (lower + 1) % NUM_ORIENTATIONS
    upper_weight = position - np.floor(position)
    height, width = gray.shape
    rows, cols = height // cell, width // cell
    # Pool straight into (cell, bin) slots with two weighted bincounts (one per neighbouring bin).
    cell_index = (np.arange(height)[:, None] // cell * cols + np.arange(width)[None, :] // cell)
    slots = cell_index * NUM_ORIENTATIONS
    total = rows * cols * NUM_ORIENTATIONS
    pooled = np.bincount((slots + lower).ravel(), (magnitude * (1.0 - upper_weight)).ravel(), total)
    pooled += np.bincount((slots + upper).ravel(), (magnitude * upper_weight).ravel(), total)
    cells = (pooled / (cell * cell)).reshape(rows, cols, NUM_ORIENTATIONS).astype(np.float32)
    energy = cv2.boxFilter((cells ** 2).sum(axis=2), -1, (3, 3), normalize=True, borderType=cv2.BORDER_REPLICATE)
    normalised = cells / np.sqrt(energy * NUM_ORIENTATIONS + 1e-4)[:, :, None]
    return np.minimum(normalised, HOG_CLIP).astype(np.float32)


def cell_features(patch: np.ndarray, cell: int, hog_weight: float = 0.5, colour_weight: float = 1.0,
                  lightness_weight: float = 1.0) -> np.ndarray:
    """Orientation histograms and Lab colour of an RGB patch: ``(H/cell, W/cell, 12)`` float32.

    The weights scale the channel groups inside the correlation filter's kernel: on textured
    backgrounds orientation histograms alone follow the background (every cell carries equal
    normalised gradient energy), so colour gets the larger share by default.
    """
    height, width = patch.shape[:2]
    gray = cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    hog = orientation_histograms(gray, cell) * hog_weight
    lab = cv2.cvtColor(patch, cv2.COLOR_RGB2LAB).astype(np.float32) / 255.0 - 0.5
    lab = cv2.resize(lab, (width // cell, height // cell), interpolation=cv2.INTER_AREA)
    lab *= np.array([lightness_weight, colour_weight, colour_weight], np.float32)
    return np.concatenate([hog, lab], axis=2)
