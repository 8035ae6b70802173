"""DMTrack's figures on real validation pairs (``data.validation``, read, never trained on).

Each pair (``longtrack.train.validation``) is the first frame's box as the query and a later
frame where the target is visible. The network runs as the tracker runs it: the query frame
gives the dynamic weights and the template's re-id vector (at the box centre); the search frame
gives the top ``top_k`` candidates after NMS (no score floor) and each candidate's re-id vector.
Figures (as ``experiments/dmtrack/reid_check.py`` measures them on one synthetic sequence):

* ``real_top1_iou50`` / ``real_top1_iou``: the detector's top-1 candidate against the target box
  (share with IoU >= 0.5, mean IoU), what top-1 association would answer;
* ``real_covered``: the share of pairs where some candidate has IoU > 0.5 (the target's candidate);
* ``reid_target_cos``: the template's cosine similarity to the target's candidate (mean over the
  covered pairs), ``reid_other_cos``: to the best other candidate (IoU < 0.3; mean over the pairs
  that have one);
* ``reid_target_wins``: over the covered pairs, the share where the target's candidate is more
  similar to the template than every other candidate (trivially so when there is none);
* ``reid_pick_iou50``: the share of pairs where the candidate most similar to the template has
  IoU >= 0.5, what re-identification alone would recover.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ...boxes import pairwise_iou, xyxy_to_xywh
from ...models.dmtrack import DMTrack, preprocess_image
from ...models.dmtrack.head import decode_detections
from ...models.dmtrack.reid import sample_embeddings
from ..validation import ValidationPair

__all__ = ["PairCandidates", "separation_figures", "pair_candidates", "reid_pair_evaluator"]

TOP_K = 10  # candidates per search frame, as the tracker keeps
COVER_IOU = 0.5  # a candidate this close is the target's
OTHER_IOU = 0.3  # a candidate this far is another object (between the two: neither)


@dataclass(frozen=True)
class PairCandidates:
    """One pair's candidates: ``boxes [K, 4]`` xywh frame pixels, best score first; ``similarity
    [K]`` cosine to the template (None without a re-id branch); ``target [4]`` xywh."""

    boxes: np.ndarray
    similarity: np.ndarray | None
    target: np.ndarray


def separation_figures(pairs: Sequence[PairCandidates]) -> dict[str, float]:
    """The module docstring's figures over ``pairs``; a figure with no pair to average is left out."""
    top1, covered, target_cos, other_cos, wins, pick = [], [], [], [], [], []
    for pair in pairs:
        if len(pair.boxes) == 0:
            top1.append(0.0)
            covered.append(False)
            if pair.similarity is not None:  # no candidate: re-id recovers nothing
                pick.append(False)
            continue
        ious = pairwise_iou(pair.boxes, pair.target)[:, 0]
        top1.append(float(ious[0]))
        best = int(np.argmax(ious))
        covered.append(bool(ious[best] > COVER_IOU))
        if pair.similarity is None:
            continue
        sims = np.asarray(pair.similarity, dtype=np.float64)
        pick.append(bool(ious[int(np.argmax(sims))] >= COVER_IOU))
        others = sims[ious < OTHER_IOU]
        if len(others):
            other_cos.append(float(others.max()))
        if covered[-1]:
            target_cos.append(float(sims[best]))
            wins.append(not len(others) or bool(sims[best] > others.max()))
    top1 = np.asarray(top1)

    lists = {"real_top1_iou50": top1 >= COVER_IOU, "real_top1_iou": top1, "real_covered": covered,
             "reid_target_cos": target_cos, "reid_other_cos": other_cos, "reid_target_wins": wins,
             "reid_pick_iou50": pick}
    return {name: float(np.mean(values)) for name, values in lists.items() if len(values)}


def _template(model: DMTrack, frame: np.ndarray, box_xywh: np.ndarray, device):
    image, scale, _ = preprocess_image(frame, model.config, device)
    feats = model.features(model.normalise(image))
    x, y, w, h = (float(v) * scale for v in box_xywh)
    rois = torch.tensor([[0.0, x, y, x + w, y + h]], dtype=torch.float32, device=device)
    conditions = model.query(feats["pyramid"], rois)["conditions"]
    embedding = model.embed(feats)
    vector = None
    if embedding is not None:
        centre = torch.tensor([[x + w / 2, y + h / 2]], dtype=torch.float32, device=device)
        vector = sample_embeddings(embedding, torch.zeros(1, dtype=torch.long, device=device), centre)[0]
    return conditions, vector


def pair_candidates(model: DMTrack, pair: ValidationPair, top_k: int = TOP_K) -> PairCandidates:
    """Run the network on one pair (see the module docstring)."""
    device = next(model.parameters()).device
    cfg = model.config
    conditions, template = _template(model, pair.query_frame, pair.query_box, device)
    image, scale, hw = preprocess_image(pair.search_frame, cfg, device)
    feats = model.features(model.normalise(image))
    levels = model.detect(feats["pyramid"], conditions)
    boxes, _, _ = decode_detections(
        [lv["cls_score"][0] for lv in levels], [lv["bbox_pred"][0] for lv in levels],
        [lv["centerness"][0] for lv in levels], cfg.strides, hw, scale, nms_pre=cfg.nms_pre,
        score_threshold=cfg.score_threshold, nms_iou=cfg.nms_iou, max_per_image=cfg.max_per_image,
        classes=(cfg.target_class,))
    boxes = boxes[: top_k]
    similarity = None
    embedding = model.embed(feats)
    if embedding is not None and template is not None:
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2 * scale
        vectors = sample_embeddings(embedding, torch.zeros(len(boxes), dtype=torch.long, device=device), centres)
        similarity = (vectors @ template).float().cpu().numpy()
    return PairCandidates(xyxy_to_xywh(boxes.float().cpu().numpy()), similarity,
                          np.asarray(pair.search_box, dtype=np.float64))


def reid_pair_evaluator(pairs: Sequence[ValidationPair], top_k: int = TOP_K):
    """``evaluate(model) -> figures`` on fixed ``pairs`` (the engine calls it in eval mode, no grad)."""
    pairs = list(pairs)

    def evaluate(model: DMTrack) -> dict[str, float]:
        with torch.no_grad():
            return separation_figures([pair_candidates(model, pair, top_k) for pair in pairs])

    return evaluate
