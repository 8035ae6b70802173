"""ProContEXT's training method: triplet frame sampling, the keep-ratio warm-up, the batch
adapter's preprocessing (equal to the tracker's), a fixed batch that the loss learns, and a
`longtrack train` run whose weights.pt the tracker loads."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from longtrack.errors import LongtrackError
from longtrack.models.procontext import ProContEXT, ProContEXTConfig
from longtrack.train import train
from longtrack.train.config import config_from_dict, load_config
from longtrack.train.data import collate_samples
from longtrack.train.methods import resolve_method
from longtrack.train.methods.procontext import (CE_END, CE_START, ProContEXTOnBatches, TripletSamples,
                                                build, keep_ratio_at)
from longtrack.trackers.procontext import ProContEXTTracker

REPO = Path(__file__).resolve().parents[2]
TINY_MODEL = {"embed_dim": 32, "depth": 3, "num_heads": 2, "template_size": 32, "search_size": 64,
              "ce_locations": [1], "ce_keep_ratios": [0.7], "head_channels": 16}


def tiny_config(steps: int = 20, **data) -> dict:
    return {
        "method": "procontext",
        "model": TINY_MODEL,
        "data": {"sources": [{"name": "synthetic", "preset": "mini", "frame_size": [128, 96],
                              "num_sequences": 4, "cache": 4}],
                 "samples_per_video": 4, "template_frames": 2, "max_gap": 30,
                 "templates": [{"factor": 2.0, "size": 32, "pad": 0.0}, {"factor": 4.0, "size": 32, "pad": 0.0}],
                 "search": {"factor": 5.0, "size": 64, "scale_jitter": 0.25, "center_jitter": 2.0, "pad": 0.0},
                 **data},
        "optim": {"name": "adamw", "lr": 1e-3},
        "train": {"steps": steps, "batch_size": 4, "log_every": 1, "ckpt_every": 100, "tensorboard": False},
    }


class StripeVideo:
    """A 300-frame video whose target is visible only in frames 100-199 and 250-299."""

    name = "stripes"
    target_identity = 0

    def __init__(self):
        self.target_visible = np.zeros(300, dtype=bool)
        self.target_visible[100:200] = True
        self.target_visible[250:] = True
        self.target_boxes = np.tile([40.0, 30.0, 20.0, 16.0], (300, 1))

    def __len__(self):
        return 300

    def frame(self, index):
        return np.full((96, 128, 3), index % 256, dtype=np.uint8)

    def instances(self, index):
        return self.target_boxes[index:index + 1], np.array([0])


class StripeSource:
    num_identities = 1

    def __len__(self):
        return 1

    def video(self, index):
        return StripeVideo()


def test_registered_and_the_shipped_config_parses():
    assert resolve_method("procontext").build is build
    cfg = load_config(REPO / "configs" / "procontext-synth.yaml")
    assert cfg.model == ProContEXTConfig.small()
    assert TripletSamples(cfg).final_keep == 0.7  # the shipped data section fits the model


def test_triplets_static_dynamic_search():
    cfg = config_from_dict(tiny_config(max_gap=30, brightness_jitter=0.0, gray_prob=0.0))
    samples = TripletSamples(cfg, sources=[StripeSource()])
    seen_far = False
    for index in range(200):
        sample = samples[(0, index)]
        static, dynamic, search = sample["frame_indices"].tolist()
        assert all(StripeVideo().target_visible[[static, dynamic, search]])
        assert min(static, search) <= dynamic <= max(static, search)  # between the two
        assert abs(search - dynamic) <= 30  # near the search frame
        seen_far |= abs(search - static) > 30  # the static template may be far away
        assert sample["template_images"].shape == (4, 3, 32, 32)  # [static@2, static@4, dynamic@2, dynamic@4]
        assert sample["search_images"].shape == (1, 3, 64, 64)
        # Frame f is grey level f % 256: each crop comes from its frame, in the model's order.
        centres = sample["template_images"][:, 0, 16, 16].tolist() + [sample["search_images"][0, 0, 32, 32]]
        assert centres == [static % 256] * 2 + [dynamic % 256] * 2 + [search % 256]
    assert seen_far


def test_keep_ratio_warm_up():
    assert keep_ratio_at(0.0, 0.7) == 1.0 and keep_ratio_at(CE_START - 1e-9, 0.7) == 1.0
    assert keep_ratio_at((CE_START + CE_END) / 2, 0.7) == pytest.approx(0.85)
    assert keep_ratio_at(CE_END, 0.7) == 0.7 and keep_ratio_at(1.0, 0.7) == 0.7
    cfg = config_from_dict(tiny_config(steps=30))
    samples = TripletSamples(cfg, sources=[StripeSource()])
    # Samples of one step share the step's ratio; step 15 of 30 is half-way through training.
    ratios = [float(samples[(0, 15 * 4 + k)]["keep_ratio"]) for k in range(4)]
    assert ratios == [pytest.approx(keep_ratio_at(0.5, 0.7))] * 4
    # The window comes from the model section (the small config starts later than the authors).
    late = config_from_dict({**tiny_config(steps=30), "model": {**TINY_MODEL, "ce_start": 0.6, "ce_end": 0.9}})
    late_samples = TripletSamples(late, sources=[StripeSource()])
    assert float(late_samples[(0, 15 * 4)]["keep_ratio"]) == 1.0  # half-way: not started yet
    assert float(late_samples[(0, 29 * 4)]["keep_ratio"]) == pytest.approx(0.7)


def test_a_group_of_samples_shares_one_rendered_triplet():
    class CountingVideo(StripeVideo):
        rendered = []

        def frame(self, index):
            self.rendered.append(index)
            return super().frame(index)

    class CountingSource(StripeSource):
        def video(self, index):
            return CountingVideo()

    cfg = config_from_dict(tiny_config(samples_per_video=4))
    samples = TripletSamples(cfg, sources=[CountingSource()])
    group = [samples[(0, i)] for i in range(4)]
    assert all(np.array_equal(s["frame_indices"], group[0]["frame_indices"]) for s in group)
    assert len(CountingVideo.rendered) == len(set(group[0]["frame_indices"].tolist()))  # once each
    boxes = {tuple(np.round(s["search_boxes"][0], 3)) for s in group}
    assert len(boxes) == 4  # but each sample is its own jittered view
    assert not np.array_equal(samples[(0, 4)]["frame_indices"], group[0]["frame_indices"])


def test_bad_data_sections_are_named():
    with pytest.raises(LongtrackError, match="template_frames 2"):
        TripletSamples(config_from_dict(tiny_config(template_frames=1)), sources=[StripeSource()])
    with pytest.raises(LongtrackError, match="one view per factor"):
        TripletSamples(config_from_dict(tiny_config(templates=[{"factor": 2.0, "size": 32}])),
                       sources=[StripeSource()])


def test_batches_are_normalised_as_the_tracker_normalises_crops():
    config = ProContEXTConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in TINY_MODEL.items()})
    model = ProContEXTOnBatches(config)
    assert model.state_dict().keys() == ProContEXT(config).state_dict().keys()
    tracker = ProContEXTTracker.__new__(ProContEXTTracker)  # only its _normalise
    tracker.device = torch.device("cpu")
    tracker.mean = torch.tensor(config.mean).view(1, 3, 1, 1)
    tracker.std = torch.tensor(config.std).view(1, 3, 1, 1)
    patch = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    ours = model.normalise(torch.from_numpy(patch).permute(2, 0, 1)[None, None])[0]
    torch.testing.assert_close(ours, tracker._normalise(patch), rtol=1e-6, atol=1e-6)


def test_loss_is_finite_and_falls_on_a_fixed_batch():
    torch.manual_seed(0)
    # 64 head channels: the towers narrow to 64 / 8 = 8 before the output; 16 would leave 2
    # ReLU channels, often all dead at a cell, whose score then only the shared bias can move.
    cfg = config_from_dict({**tiny_config(steps=40), "model": {**TINY_MODEL, "head_channels": 64}})
    setup = build(cfg, torch.device("cpu"))
    batch = collate_samples([setup.dataset[(0, i)] for i in range(4)])
    batch["keep_ratio"] = torch.full((4,), 0.7)  # elimination on: its path must train too
    optimizer = torch.optim.AdamW(setup.model.parameters(), lr=1e-3)
    losses = []
    for _ in range(30):
        out = setup.criterion(setup.model(batch), batch)
        assert set(out) >= {"loss", "focal", "giou", "l1"} and math.isfinite(out["loss"].item())
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
        losses.append(out["loss"].item())
    assert losses[-1] < 0.5 * losses[0]
    assert len(setup.model(batch)["kept_search_indices"]) == 1


def test_a_training_run_gives_weights_the_tracker_loads(tmp_path):
    cfg = config_from_dict(tiny_config(steps=4))
    out = train(cfg, tmp_path / "run", device="cpu")
    lines = (out / "log.jsonl").read_text().splitlines()
    assert len(lines) == 4
    tracker = ProContEXTTracker(weights=str(out / "weights.pt"))
    assert tracker.config.embed_dim == 32
    frame = np.random.default_rng(1).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    tracker.initialize(frame, (40, 30, 20, 16))
    prediction = tracker.track(frame)
    assert all(math.isfinite(v) for v in prediction.box)


def test_create_uses_the_shipped_weights():
    import warnings

    import longtrack
    from longtrack.checkpoint import load_weights

    shipped = load_weights(REPO / "src" / "longtrack" / "weights" / "procontext-real.pt", method="procontext")
    assert ProContEXTConfig.from_dict(shipped.model_config) == ProContEXTConfig.real()
    assert shipped.config["method"] == "procontext"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "randomly initialised" warning
        tracker = longtrack.create("procontext")
    assert tracker.config == ProContEXTConfig.real()
    assert tracker.presence_threshold == shipped.tracker_config()["presence_threshold"]
    for key, value in shipped.state_dict.items():
        assert torch.equal(tracker.model.state_dict()[key], value), key


class TwoObjectVideo:
    """A 400x300 video: the target (grey 255, 20x16 at (40, 30)) is visible in frames 0-59 and
    90-119, absent in 60-89; another object (grey 128, same size) stays at (320, 240); the rest is
    black. A crop that holds any of the target has a pixel near 255."""

    name = "two-objects"
    target_identity = 0

    def __init__(self):
        self.target_visible = np.ones(120, dtype=bool)
        self.target_visible[60:90] = False
        self.target_boxes = np.tile([40.0, 30.0, 20.0, 16.0], (120, 1))
        self.other_box = np.array([320.0, 240.0, 20.0, 16.0])

    def __len__(self):
        return 120

    def frame(self, index):
        image = np.zeros((300, 400, 3), dtype=np.uint8)
        image[240:256, 320:340] = 128
        if self.target_visible[index]:
            image[30:46, 40:60] = 255
        return image

    def instances(self, index):
        if not self.target_visible[index]:
            return self.other_box[None], np.array([1])
        return np.stack([self.target_boxes[index], self.other_box]), np.array([0, 1])


class TwoObjectSource(StripeSource):
    def video(self, index):
        return TwoObjectVideo()


def two_object_samples(fraction: float) -> TripletSamples:
    cfg = config_from_dict(tiny_config(max_gap=40, brightness_jitter=0.0, gray_prob=0.0, negative_fraction=fraction))
    return TripletSamples(cfg, sources=[TwoObjectSource()])


def test_target_free_samples_at_the_configured_fraction_without_the_target():
    samples, plain = two_object_samples(0.3), two_object_samples(0.0)
    video, kinds = TwoObjectVideo(), {"absent": 0, "other place": 0}
    free = 0
    for index in range(300):
        sample = samples[(0, index)]
        search = int(sample["frame_indices"][2])
        if not sample["target_free"]:
            # A positive sample is exactly the one the option off gives (its own generator).
            same = plain[(0, index)]
            assert all(np.array_equal(sample[k], same[k]) for k in same), index
            assert video.target_visible[search] and sample["search_images"].max() >= 250
            continue
        free += 1
        assert sample["search_images"].max() < 200  # no target pixel in the crop
        if not sample["search_present"][0]:  # an absent frame near the triplet's search frame
            kinds["absent"] += 1
            assert 60 <= search < 90
        else:  # a crop around the other object (or a random place) that misses the target's box
            kinds["other place"] += 1
            x, y, w, h = sample["search_boxes"][0]
            assert x >= 64 or x + w <= 0 or y >= 64 or y + h <= 0
    assert free / 300 == pytest.approx(0.3, abs=0.07)
    assert min(kinds.values()) > 0.25 * free  # both ways are used
    assert not any(plain[(0, i)]["target_free"] for i in range(20))


def test_negative_fraction_is_refused_where_samples_cannot_make_it():
    from longtrack.train.config import DataConfig
    from longtrack.train.data import TrackingSamples

    with pytest.raises(LongtrackError, match="negative_fraction"):
        TrackingSamples(DataConfig(negative_fraction=0.2), seed=0, sources=[StripeSource()])
    with pytest.raises(LongtrackError, match="negative_fraction"):
        config_from_dict(tiny_config(negative_fraction=1.0))


def test_a_training_run_with_target_free_samples(tmp_path):
    cfg = config_from_dict(tiny_config(steps=3, negative_fraction=0.5))
    out = train(cfg, tmp_path / "run", device="cpu")
    import json
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert len(records) == 3 and all(math.isfinite(r["loss"]) for r in records)
