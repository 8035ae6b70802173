"""Fit classic-lt's confidence calibration on the synthetic train split (docs/baselines.md).

classic-lt's confidence is ``sigmoid(w_peak * r + w_bank * s + bias)`` where ``r`` is the
correlation filter's response peak relative to its running level and ``s`` the box's best NCC
with any template of the re-detector's bank.

Calibrating on the tracker's own closed-loop output does not work: once it locks onto a wrong
object its filter and bank learn that object, so wrong boxes look familiar and the fit learns
that familiarity means failure. Instead the model is kept healthy by the truth: on every frame
the filter learns at the ground-truth box and the bank takes its templates there (as the tracker
does when it is right). On every ``stride``-th frame the evidence is measured for boxes the
tracker would actually consider - the local detection from the previous true position, the
whole-frame re-detection candidates (look-alikes included) and jittered boxes around the truth
- each labelled 1 when its detected box overlaps the truth with IoU >= 0.5 (0 when the target is
absent). The three numbers come from L2-regularised logistic regression on those samples.

Run it as ``longtrack calibrate classic-lt``; the numbers go into ``trackers/classic_lt.py``.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.optimize import minimize
from tqdm import tqdm

from ..boxes import iou
from ..synth import make_sequence
from ..trackers.classic_lt import ClassicLongTermTracker

__all__ = ["ConfidenceFit", "collect", "fit_logistic", "fit_confidence", "reliability_bins"]

JITTERS = 2  # jittered boxes around the truth per sampled frame


@dataclass
class ConfidenceFit:
    weights: np.ndarray  # (w_peak, w_bank, bias)
    evidence: np.ndarray  # (M, 2) the samples' (r, s)
    labels: np.ndarray  # (M,) 1 on the target

    @property
    def samples(self) -> int:
        return len(self.labels)

    @property
    def on_target(self) -> float:
        return float(self.labels.mean())

    def probabilities(self) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(np.c_[self.evidence, np.ones(len(self.evidence))] @ self.weights)))


def _center_size(box):
    x, y, w, h = (float(v) for v in box)
    return (x + w / 2.0, y + h / 2.0), (w, h)


def collect(seq, stride: int, rng: np.random.Generator, progress: tqdm) -> tuple[np.ndarray, np.ndarray]:
    """Evidence (M, 2) and labels (M,) from one sequence with a truth-driven model."""
    tracker = ClassicLongTermTracker()
    tracker.initialize(seq.render(0), seq.boxes[0])
    p, state = tracker.params, tracker.state
    evidence, labels = [], []
    last_visible = tuple(seq.boxes[0])
    for index in range(1, len(seq)):
        frame, truth, visible = seq.render(index), seq.boxes[index], not seq.absent[index]
        state.frame_index = index
        if index % stride == 0:
            center, size = _center_size(last_visible)
            samples = [(center, size)]  # where local tracking would search
            samples += [_center_size(c.box) for c in tracker.bank.search(frame, size)]
            if visible:
                t_center, t_size = _center_size(truth)
                for _ in range(JITTERS):
                    shift = rng.uniform(-0.6, 0.6, 2) * np.array(t_size)
                    scale = np.exp(rng.uniform(-0.25, 0.25))
                    samples.append(((t_center[0] + shift[0], t_center[1] + shift[1]),
                                    (t_size[0] * scale, t_size[1] * scale)))
            for center, size in samples:
                det = tracker.filter.detect(frame, center, size)
                tracker.confidence(frame, det.peak, det.center, det.size)
                box = (det.center[0] - det.size[0] / 2, det.center[1] - det.size[1] / 2, *det.size)
                evidence.append(state.evidence)
                labels.append(float(visible and float(iou(box, truth)) >= 0.5))
        if visible:  # keep the model as a correct tracker would: learn at the truth
            center, size = _center_size(truth)
            det = tracker.filter.detect(frame, center, size)
            tracker.filter.learn(frame, center, size)
            state.peak_reference += p.reference_rate * (det.peak - state.peak_reference)
            if index - state.last_template_frame >= p.template_interval and tracker.bank.add(frame, truth):
                state.last_template_frame = index
            last_visible = tuple(truth)
        progress.update(1)
    return np.asarray(evidence, dtype=np.float64), np.asarray(labels)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Weights (w_1..w_k, bias) minimising the mean logistic loss + l2 * |w|^2."""
    design = np.c_[x, np.ones(len(x))]

    def loss_and_grad(w):
        z = design @ w
        loss = np.mean(np.logaddexp(0.0, z) - y * z) + l2 * np.sum(w[:-1] ** 2)
        grad = design.T @ (1.0 / (1.0 + np.exp(-z)) - y) / len(y)
        grad[:-1] += 2.0 * l2 * w[:-1]
        return loss, grad

    return minimize(loss_and_grad, np.zeros(design.shape[1]), jac=True, method="L-BFGS-B").x


def fit_confidence(preset: str, num: int, size: tuple[int, int], stride: int) -> ConfidenceFit:
    """The fit over train sequences ``0..num-1`` of ``preset`` at ``size`` (jitter seed 0)."""
    cv2.setNumThreads(1)
    seqs = [make_sequence(preset=preset, split="train", index=i, size=size) for i in range(num)]
    rng = np.random.default_rng(0)
    xs, ys = [], []
    with tqdm(total=sum(len(s) - 1 for s in seqs), unit="frame", file=sys.stderr) as progress:
        for seq in seqs:
            x, y = collect(seq, stride, rng, progress)
            xs.append(x)
            ys.append(y)
    x, y = np.concatenate(xs), np.concatenate(ys)
    return ConfidenceFit(fit_logistic(x, y), x, y)


def reliability_bins(fit: ConfidenceFit, bins: int = 10) -> list[tuple[float, float, float, float, int]]:
    """``(low, high, mean predicted, fraction on target, samples)`` per non-empty probability bin."""
    prob, y = fit.probabilities(), fit.labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows = []
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (prob >= low) & ((prob < high) | (high == 1.0))
        if inside.any():
            rows.append((float(low), float(high), float(prob[inside].mean()), float(y[inside].mean()),
                         int(inside.sum())))
    return rows
