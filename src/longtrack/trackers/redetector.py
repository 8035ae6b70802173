"""Whole-frame re-detection by multi-scale normalised cross-correlation.

A ``TemplateBank`` holds the first-frame template (kept for ever) and a few recent confident
templates (oldest dropped first). ``search`` correlates every template at several scales of the
expected target size with the whole frame (``cv2.matchTemplate``, ``TM_CCOEFF_NORMED``) and
returns the best-scoring, non-overlapping candidate boxes.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..boxes import iou


@dataclass(frozen=True)
class RedetectorParams:
    scales: tuple[float, ...] = (0.7, 0.84, 1.0, 1.19, 1.42)  # relative to the last known size
    working_size: float = 24.0  # the template's sqrt area in pixels after downscaling the frame
    bank_size: int = 4  # recent templates besides the first one
    num_candidates: int = 5  # candidates returned per search (the target and a few look-alikes)
    min_template_px: int = 6  # templates smaller than this (either side) are not searched
    verify_margin: float = 0.15  # similarity() lets the box shift by this fraction of its size


@dataclass(frozen=True)
class Candidate:
    """A re-detection: box (x, y, w, h) in frame pixels and its best NCC score in [-1, 1]."""

    box: tuple[float, float, float, float]
    score: float


class TemplateBank:
    """First-frame template plus up to ``bank_size`` recent ones (RGB crops of the target box)."""

    def __init__(self, params: RedetectorParams = RedetectorParams()):
        self.params = params
        self.first: np.ndarray | None = None
        self.recent: list[np.ndarray] = []

    def reset(self, frame: np.ndarray, box) -> None:
        self.first = _crop(frame, box)
        self.recent = []

    def add(self, frame: np.ndarray, box) -> bool:
        """Store the crop at ``box`` when the box lies inside the frame; True if stored."""
        x, y, w, h = box
        if x < 0 or y < 0 or x + w > frame.shape[1] or y + h > frame.shape[0]:
            return False  # a template cut by the border would teach the detector the border
        self.recent.append(_crop(frame, box))
        if len(self.recent) > self.params.bank_size:
            self.recent.pop(0)
        return True

    @property
    def templates(self) -> list[np.ndarray]:
        return ([self.first] if self.first is not None else []) + self.recent

    def similarity(self, frame: np.ndarray, box) -> float:
        """How much the region at ``box`` looks like the target: the best NCC of any template
        (resized to the box) within a small shift of the box, in [-1, 1]."""
        p = self.params
        x, y, w, h = (float(v) for v in box)
        factor = min(1.0, p.working_size / np.sqrt(max(w * h, 1.0)))
        tw, th = max(int(round(w * factor)), 2), max(int(round(h * factor)), 2)
        mw, mh = max(int(round(tw * p.verify_margin)), 1), max(int(round(th * p.verify_margin)), 1)
        region = _crop(frame, (x - mw / factor, y - mh / factor, (tw + 2 * mw) / factor, (th + 2 * mh) / factor))
        region = cv2.resize(region, (tw + 2 * mw, th + 2 * mh), interpolation=cv2.INTER_AREA)
        best = -1.0
        for template in self.templates:
            resized = cv2.resize(template, (tw, th), interpolation=cv2.INTER_AREA)
            response = np.nan_to_num(cv2.matchTemplate(region, resized, cv2.TM_CCOEFF_NORMED), nan=-1.0)
            best = max(best, float(response.max()))
        return best

    def search(self, frame: np.ndarray, size) -> list[Candidate]:
        """Candidates for a target of about ``size`` = (w, h) anywhere in ``frame`` (RGB),
        best first, at most ``num_candidates``, none overlapping another by IoU > 0.3."""
        p = self.params
        w, h = float(size[0]), float(size[1])
        factor = min(1.0, p.working_size / np.sqrt(max(w * h, 1.0)))
        small = cv2.resize(frame, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else frame
        found: list[Candidate] = []
        for scale in p.scales:
            tw, th = int(round(w * scale * factor)), int(round(h * scale * factor))
            if min(tw, th) < p.min_template_px or tw >= small.shape[1] or th >= small.shape[0]:
                continue
            response = None
            for template in self.templates:
                resized = cv2.resize(template, (tw, th), interpolation=cv2.INTER_AREA)
                r = cv2.matchTemplate(small, resized, cv2.TM_CCOEFF_NORMED)
                response = r if response is None else np.maximum(response, r)
            for (px, py), score in _peaks(response, p.num_candidates, (tw, th)):
                box = (px / factor, py / factor, tw / factor, th / factor)
                found.append(Candidate(box, score))
        return _suppress(found, p.num_candidates)


def _crop(frame: np.ndarray, box) -> np.ndarray:
    x, y, w, h = box
    width, height = max(int(round(w)), 1), max(int(round(h)), 1)
    return cv2.getRectSubPix(frame, (width, height), (float(x + w / 2.0), float(y + h / 2.0)))


def _peaks(response: np.ndarray, count: int, template_size) -> list[tuple[tuple[int, int], float]]:
    """The ``count`` highest maxima of ``response``, each suppressing a template-sized area."""
    response = np.nan_to_num(response.copy(), nan=-1.0)
    tw, th = template_size
    peaks = []
    for _ in range(count):
        _, score, _, (px, py) = cv2.minMaxLoc(response)
        if score <= -1.0:
            break
        peaks.append(((px, py), float(score)))
        response[max(py - th // 2, 0):py + th // 2 + 1, max(px - tw // 2, 0):px + tw // 2 + 1] = -1.0
    return peaks


def _suppress(candidates: list[Candidate], count: int) -> list[Candidate]:
    """Greedy non-maximum suppression across scales: a candidate overlapping a better one by
    IoU > 0.3, or with its centre inside it, is the same object at another scale."""
    kept: list[Candidate] = []
    for cand in sorted(candidates, key=lambda c: -c.score):
        if all(iou(cand.box, k.box) <= 0.3 and not _centre_inside(cand.box, k.box)
               and not _centre_inside(k.box, cand.box) for k in kept):
            kept.append(cand)
        if len(kept) == count:
            break
    return kept


def _centre_inside(a, b) -> bool:
    cx, cy = a[0] + a[2] / 2.0, a[1] + a[3] / 2.0
    return b[0] <= cx <= b[0] + b[2] and b[1] <= cy <= b[1] + b[3]
