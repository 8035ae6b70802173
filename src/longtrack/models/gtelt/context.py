"""How GTELT's temporal context moves from one frame to the next: candidate selection and the
transfer along the activated tracker's flow. Pure functions of tensors, batched, used by the
online tracker (batch 1) and by training (which propagates the context exactly as online).

Selection: candidate i's confidence is ``sigmoid(logit_i) x cos(template feature, candidate
feature)``. The target (one track) is assigned to the candidate of lowest cost
``-confidence_i + position_weight x distance(centre_i, last centre) / image diagonal``; the
distance term only counts when the target was present in the previous frame. With one track,
the Hungarian assignment of DMTrack reduces to this arg-min. The target is present when the
chosen confidence exceeds theta.

Transfer: when present, the chosen tracker j is activated: its reference position becomes the
centre of its box, its query the TCA output over the memory of online queries, and that query
joins the memory (the last L are kept). Every other tracker returns to its default query and
reference position. When absent, all trackers are default; the memory is kept (it describes the
target, not a place).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["TrackerContext", "Selection", "initial_context", "start_context", "select_candidates", "transfer_context"]


@dataclass(frozen=True)
class TrackerContext:
    """The local trackers' temporal state for a batch of B videos (N trackers, memory L)."""

    queries: Tensor  # [B, N, c]
    references: Tensor  # [B, N, 2] x, y in [0, 1]
    memory: Tensor  # [B, L, c] online queries, oldest first
    memory_valid: Tensor  # [B, L] bool
    active: Tensor  # [B] long: the activated tracker, -1 for none
    last_centre: Tensor  # [B, 2] the target's last centre, x, y in [0, 1]
    last_present: Tensor  # [B] bool: present in the previous frame


@dataclass(frozen=True)
class Selection:
    index: Tensor  # [B] long: the chosen candidate (= local tracker)
    confidence: Tensor  # [B, N]: score x similarity of every candidate
    present: Tensor  # [B] bool

    @property
    def chosen_confidence(self) -> Tensor:
        return self.confidence.gather(1, self.index[:, None])[:, 0]


def initial_context(model, batch: int) -> TrackerContext:
    """All trackers default, empty memory, no previous position."""
    queries, references = model.default_state(batch)
    param = queries
    length, dim = model.config.memory_length, model.config.hidden_dim
    return TrackerContext(
        queries=queries, references=references,
        memory=param.new_zeros((batch, length, dim)),
        memory_valid=torch.zeros((batch, length), dtype=torch.bool, device=param.device),
        active=torch.full((batch,), -1, dtype=torch.long, device=param.device),
        last_centre=param.new_zeros((batch, 2)),
        last_present=torch.zeros(batch, dtype=torch.bool, device=param.device))


def start_context(model, centre: Tensor, present: Tensor, activate: bool = True,
                  temporal_transfer: bool = True) -> TrackerContext:
    """The context when tracking starts from a known box: ``centre [B, 2]`` (x, y in [0, 1] of the
    canvas), ``present [B]`` bool (False: nothing known, as ``initial_context``). The first frame's
    selection knows that position; with ``activate`` the local tracker whose default reference
    lies nearest is activated there exactly as ``transfer_context`` activates a chosen tracker,
    its default query standing in for the output embedding (no frame has been decoded yet): its
    reference moves to ``centre`` and its query is TCA's (the FFNs only: the memory is empty)."""
    context = initial_context(model, centre.shape[0])
    present = present.bool()
    context = replace(context, last_centre=torch.where(present[:, None], centre.to(context.last_centre.dtype),
                                                       context.last_centre), last_present=present)
    if not activate:
        return context
    distance = (context.references.detach().float() - centre[:, None].float()).norm(dim=-1)  # [B, N]
    index = distance.argmin(dim=1)
    boxes = torch.cat((context.references.detach(), torch.zeros_like(context.references)), dim=-1).clone()
    boxes[torch.arange(len(index)), index, :2] = centre.to(boxes.dtype)
    selection = Selection(index=index, confidence=torch.zeros_like(distance), present=present)
    outputs = {"boxes": boxes, "embeddings": context.queries}
    return transfer_context(model, context, outputs, selection, temporal_transfer)


@torch.no_grad()
def select_candidates(logits: Tensor, similarity: Tensor, boxes: Tensor, context: TrackerContext, *,
                      presence_threshold: float, position_weight: float, image_size: tuple[int, int],
                      use_position: bool = True) -> Selection:
    """logits, similarity ``[B, N]``; boxes ``[B, N, 4]`` cx, cy, w, h in [0, 1];
    image_size ``(width, height)`` of the canvas (the distance is measured in its pixels)."""
    confidence = logits.float().sigmoid() * similarity.float()
    cost = -confidence
    if use_position and position_weight > 0:
        width, height = image_size
        scale = boxes.new_tensor([width, height]).float()
        distance = ((boxes[..., :2].float() - context.last_centre[:, None].float()) * scale).norm(dim=-1)
        distance = distance / float((width ** 2 + height ** 2) ** 0.5)
        cost = cost + position_weight * distance * context.last_present[:, None].float()
    index = cost.argmin(dim=1)
    chosen = confidence.gather(1, index[:, None])[:, 0]
    return Selection(index=index, confidence=confidence, present=chosen > presence_threshold)


def transfer_context(model, context: TrackerContext, outputs: dict, selection: Selection,
                     temporal_transfer: bool = True) -> TrackerContext:
    """The next frame's context from this frame's ``outputs`` (``embeddings [B, N, c]``,
    ``boxes [B, N, 4]``) and ``selection``. Gradients flow through the TCA query (training
    trains TCA through the sequence); reference positions are detached, as Deformable DETR's."""
    batch, num = outputs["boxes"].shape[:2]
    present, index = selection.present, selection.index
    rows = torch.arange(batch, device=index.device)
    centre = outputs["boxes"][rows, index, :2].detach()
    last_centre = torch.where(present[:, None], centre.to(context.last_centre.dtype), context.last_centre)
    if not temporal_transfer:  # OSDet: every frame starts from the default trackers
        return replace(context, last_centre=last_centre, last_present=present)
    default_queries, default_references = model.default_state(batch)
    online = model.aggregate(outputs["embeddings"][rows, index], context.memory, context.memory_valid)
    activated = F.one_hot(index, num).bool() & present[:, None]  # [B, N]
    queries = torch.where(activated[..., None], online[:, None].to(default_queries.dtype), default_queries)
    references = torch.where(activated[..., None], centre[:, None].to(default_references.dtype),
                             default_references)
    appended = torch.cat((context.memory[:, 1:], online[:, None].to(context.memory.dtype)), dim=1)
    memory = torch.where(present[:, None, None], appended, context.memory)
    valid_appended = torch.cat((context.memory_valid[:, 1:], torch.ones_like(present[:, None])), dim=1)
    memory_valid = torch.where(present[:, None], valid_appended, context.memory_valid)
    return TrackerContext(queries=queries, references=references, memory=memory, memory_valid=memory_valid,
                          active=torch.where(present, index, torch.full_like(index, -1)),
                          last_centre=last_centre, last_present=present)
