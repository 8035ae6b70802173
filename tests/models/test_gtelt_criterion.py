"""GTELT's criterion on hand-checked cases, the sequence-length schedule and the sequence sampler."""
import math

import numpy as np
import pytest
import torch

from longtrack.errors import LongtrackError
from longtrack.train.config import config_from_dict
from longtrack.train.criteria.gtelt import GTELTCriterion, normalised_targets
from longtrack.train.methods.gtelt import SequenceSamples, sequence_length_at

torch.set_num_threads(1)

# Two trackers, one frame of a 100x100 image, target xywh (20, 20, 20, 20) = cxcywh (.3, .3, .2, .2).
# Tracker 0 has the exact box but its reference is far away (0.9, 0.9); tracker 1's box is
# 0.05 to the right (IoU = GIoU = 0.6) with its reference on the target's centre.
OUTPUTS = {"pred_logits": torch.zeros(1, 1, 2),
           "pred_boxes": torch.tensor([[[[0.3, 0.3, 0.2, 0.2], [0.35, 0.3, 0.2, 0.2]]]]),
           "references": torch.tensor([[[[0.9, 0.9], [0.3, 0.3]]]])}
BATCH = {"search_boxes": torch.tensor([[[20.0, 20.0, 20.0, 20.0]]]),
         "search_present": torch.tensor([[True]]),
         "search_images": torch.zeros(1, 1, 3, 100, 100, dtype=torch.uint8)}
# Focal terms of one tracker at p = 0.5 (alpha 0.25, gamma 2).
FOCAL_POSITIVE = math.log(2) * 0.25 * 0.25  # BCE * (1 - p_t)^2 * alpha
FOCAL_NEGATIVE = math.log(2) * 0.25 * 0.75  # BCE * p^2 * (1 - alpha)


def test_the_reference_cost_hands_the_target_to_the_nearby_tracker():
    # Box costs: tracker 0 = 5 * 0 - 2 * 1 = -2, tracker 1 = 5 * 0.05 - 2 * 0.6 = -0.95;
    # reference costs 5 * 1.2 = 6 and 0: tracker 1 wins only through the reference term.
    losses = GTELTCriterion()(OUTPUTS, BATCH)
    assert float(losses["focal"]) == pytest.approx(FOCAL_POSITIVE + FOCAL_NEGATIVE, rel=1e-5)
    assert float(losses["l1"]) == pytest.approx(0.05, rel=1e-4)
    assert float(losses["giou"]) == pytest.approx(0.4, rel=1e-4)
    assert float(losses["reference"]) == pytest.approx(0.0, abs=1e-6)
    expected = FOCAL_POSITIVE + FOCAL_NEGATIVE + 5 * 0.05 + 2 * 0.4
    assert float(losses["loss"]) == pytest.approx(expected, rel=1e-4)
    assert float(losses["iou"]) == pytest.approx(0.6, rel=1e-4)


def test_without_the_reference_cost_the_exact_box_wins_and_pays_the_regulariser():
    losses = GTELTCriterion(cost_reference=0.0)(OUTPUTS, BATCH)
    assert float(losses["l1"]) == pytest.approx(0.0, abs=1e-6)
    assert float(losses["giou"]) == pytest.approx(0.0, abs=1e-6)
    assert float(losses["reference"]) == pytest.approx(1.2, rel=1e-5)  # |0.9-0.3| + |0.9-0.3|
    assert float(losses["loss"]) == pytest.approx(FOCAL_POSITIVE + FOCAL_NEGATIVE + 5 * 1.2, rel=1e-5)


def test_an_absent_frame_only_adds_negatives():
    outputs = {k: v.repeat(1, 2, *([1] * (v.dim() - 2))) for k, v in OUTPUTS.items()}
    batch = {"search_boxes": BATCH["search_boxes"].repeat(1, 2, 1),
             "search_present": torch.tensor([[True, False]]),
             "search_images": BATCH["search_images"].repeat(1, 2, 1, 1, 1)}
    losses = GTELTCriterion()(outputs, batch)
    # One present frame normalises everything; the absent frame's two trackers are negatives.
    assert float(losses["focal"]) == pytest.approx(FOCAL_POSITIVE + 3 * FOCAL_NEGATIVE, rel=1e-5)
    assert float(losses["l1"]) == pytest.approx(0.05, rel=1e-4)
    all_absent = dict(batch, search_present=torch.tensor([[False, False]]))
    losses = GTELTCriterion()(outputs, all_absent)
    assert float(losses["focal"]) == pytest.approx(4 * FOCAL_NEGATIVE, rel=1e-5)
    assert float(losses["l1"]) == 0.0 and float(losses["reference"]) == 0.0


def test_losses_have_gradients():
    outputs = {k: v.clone().requires_grad_(True) for k, v in OUTPUTS.items()}
    outputs["references"].data[0, 0, 1] = torch.tensor([0.32, 0.29])  # |d| > 0: L1 has a slope
    GTELTCriterion()(outputs, BATCH)["loss"].backward()
    assert all(v.grad is not None and v.grad.abs().sum() > 0 for v in outputs.values())


def test_targets_are_normalised_and_clipped_to_the_canvas():
    boxes = torch.tensor([[-10.0, 20.0, 30.0, 20.0]])
    out = normalised_targets(boxes, (100, 200))  # height 100, width 200
    torch.testing.assert_close(out, torch.tensor([[0.05, 0.3, 0.1, 0.2]]))


def test_sequence_length_schedule_grows_in_equal_parts():
    lengths = (1, 2, 3, 4, 5)
    assert [sequence_length_at(p, lengths) for p in (0.0, 0.19, 0.2, 0.45, 0.79, 0.8, 1.0)] == [1, 1, 2, 3, 4, 5, 5]


def tiny_train_config(**data_overrides) -> dict:
    data = {"sources": [{"name": "synthetic", "preset": "mini", "split": "train", "num_sequences": 2,
                         "frame_size": [128, 96]}],
            "kind": "sequence", "samples_per_epoch": 16, "templates": [{"factor": 2.0, "size": 32, "pad": 0.0}],
            "template_frames": 1, "search": {"mode": "full", "size": [128, 96], "pad": 0.0},
            "search_frames": 3, "max_gap": 30, **data_overrides}
    model = {"backbone_depth": 18, "backbone_width": 8, "backbone_frozen_stages": -1, "backbone_norm_eval": False,
             "hidden_dim": 32, "num_heads": 4, "encoder_layers": 1, "encoder_ffn_dim": 64, "decoder_layers": 1,
             "decoder_ffn_dim": 64, "dropout": 0.0, "num_trackers": 4, "memory_length": 3, "template_size": 32,
             "image_size": [128, 96], "sequence_lengths": [1, 3], "max_frame_stride": 4}
    return {"method": "gtelt", "model": model, "data": data,
            "train": {"steps": 4, "batch_size": 2, "log_every": 1, "ckpt_every": 2, "tensorboard": False}}


def test_sequence_samples_follow_the_schedule_in_time_order():
    cfg = config_from_dict(tiny_train_config())
    samples = SequenceSamples(cfg)
    early, late = samples[(0, 1)], samples[(0, 7)]  # steps 0 and 3 of 4: T = 1, then 3
    assert early["search_images"].shape == (1, 3, 96, 128)
    assert late["search_images"].shape == (3, 3, 96, 128) and late["search_present"].dtype == bool
    assert late["template_images"].shape == (1, 3, 32, 32)
    frames = late["frame_indices"]
    template, search = frames[0], frames[1:]
    stride = np.diff(search)
    assert template < search[0] <= template + 30 and (stride == stride[0]).all() and 1 <= stride[0] <= 4
    # Both samples of a step share T, so they stack into one batch.
    assert samples[(0, 6)]["search_images"].shape == late["search_images"].shape


def test_with_init_activation_each_sequence_starts_from_the_box_one_stride_before():
    config = tiny_train_config(search_frames=4)
    config["model"]["init_activation"] = True
    samples = SequenceSamples(config_from_dict(config))
    plain = SequenceSamples(config_from_dict(tiny_train_config()))
    for key in ((0, 1), (0, 7)):
        sample = samples[key]
        length = len(plain[key]["search_present"])  # T: the same schedule
        assert sample["search_images"].shape[0] == len(sample["search_boxes"]) == len(sample["search_present"]) == length
        frames = sample["frame_indices"]
        start, search = frames[1], frames[2:]  # template, start frame, then the T test frames
        stride = np.diff(frames[1:])
        assert frames[0] < start and (stride == stride[0]).all() and len(search) == length
        assert sample["init_boxes"].shape == (4,) and sample["init_present"].dtype == bool
    with pytest.raises(LongtrackError, match="start frame"):
        config["data"]["search_frames"] = 3
        SequenceSamples(config_from_dict(config))


def test_sampler_rejects_a_config_it_cannot_serve():
    with pytest.raises(LongtrackError, match="full"):
        SequenceSamples(config_from_dict(tiny_train_config(search={"mode": "crop", "size": 128})))
    with pytest.raises(LongtrackError, match="search_frames"):
        SequenceSamples(config_from_dict(tiny_train_config(search_frames=5)))
