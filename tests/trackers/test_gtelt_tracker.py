"""GTELT online: frame fitting equals training's view, the online logic on a clip where the target
leaves, re-enters and jumps (with a scripted detector), training's propagation equals the
tracker's, weights round trip through the training engine, sizes and the registry."""
import dataclasses
import math
import warnings

import numpy as np
import pytest
import torch

import longtrack
from longtrack.checkpoint import load_weights, save_weights
from longtrack.crops import crop_around
from longtrack.errors import LongtrackError
from longtrack.models.gtelt import GTELTConfig
from longtrack.train.config import ViewConfig, config_from_dict
from longtrack.train.data.views import render_view
from longtrack.train.methods.gtelt import GTELTOnBatches
from longtrack.trackers.gtelt import FrameFit, GTELTTracker, fit_frame

torch.set_num_threads(1)
CANVAS = (128, 96)


def tiny(**overrides) -> GTELTConfig:
    values = dict(backbone_depth=18, backbone_width=8, backbone_frozen_stages=-1, backbone_norm_eval=False,
                  hidden_dim=32, num_heads=4, encoder_layers=1, encoder_ffn_dim=64, decoder_layers=1,
                  decoder_ffn_dim=64, dropout=0.0, num_trackers=4, memory_length=3, template_size=32,
                  image_size=CANVAS)
    return GTELTConfig(**{**values, **overrides})


def tracker_for(cfg: GTELTConfig, tmp_path, **options) -> tuple[GTELTTracker, GTELTOnBatches]:
    torch.manual_seed(0)
    model = GTELTOnBatches(cfg).eval()
    path = tmp_path / "gtelt.pt"
    save_weights(path, method="gtelt", config={"model": cfg.to_dict()}, state_dict=model.state_dict())
    return GTELTTracker(weights=str(path), **options), model


@pytest.mark.parametrize("shape", [(96, 128), (120, 100), (50, 200)])
def test_fit_frame_is_the_training_full_view(shape):
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    canvas, mask, fit = fit_frame(frame, CANVAS)
    view = render_view(frame, np.array([1.0, 1.0, 5.0, 5.0]), ViewConfig(mode="full", size=CANVAS, pad=0.0), rng)
    np.testing.assert_array_equal(canvas, view.image)
    np.testing.assert_array_equal(mask, view.mask)
    box = np.array([10.0, 20.0, 30.0, 15.0])
    mapped = view.map_boxes(box)  # training's frame -> canvas mapping; the tracker inverts it
    cxcywh = [(mapped[0] + mapped[2] / 2) / CANVAS[0], (mapped[1] + mapped[3] / 2) / CANVAS[1],
              mapped[2] / CANVAS[0], mapped[3] / CANVAS[1]]
    np.testing.assert_allclose(fit.canvas_to_frame(cxcywh, CANVAS), box, rtol=1e-9, atol=1e-9)


# -- the online logic with a scripted detector ----------------------------------------------------
# Target boxes per frame (frame 0 initialises); None = absent. It moves smoothly, leaves for three
# frames, re-enters elsewhere, then jumps. A same-looking distractor sits in the far corner, more
# confident than the target (0.85) while the target is visible before its exit, 0.7 afterwards.
TARGET = [(10, 10, 16, 12), (14, 10, 16, 12), (18, 11, 16, 12), (22, 12, 16, 12), None, None, None,
          (60, 40, 16, 12), (63, 41, 16, 12), (40, 70, 16, 12)]
DISTRACTOR = (104, 76, 16, 12)


def scripted_decode(tracker, real_decode):
    """Candidates as a perfect detector would give them: the target goes to the tracker whose
    reference lies on it (it follows the target), else to the first tracker whose reference does
    not; tracker 3 always holds the distractor."""
    width, height = CANVAS

    def as_canvas(box):
        x, y, w, h = box
        return [(x + w / 2) / width, (y + h / 2) / height, w / width, h / height]

    def decode(frame, queries, references):
        out = real_decode(frame, queries, references)
        index = tracker.state.frame_index
        logits = torch.full((1, 4), -6.0)
        boxes = torch.tensor([[[0.5, 0.5, 0.1, 0.1]] * 4])
        target = TARGET[index]
        if target is not None:
            centre = torch.tensor(as_canvas(target)[:2])
            near = ((references[0, :3] - centre).abs().max(dim=1).values < 0.08).nonzero()
            holder = int(near[0]) if len(near) else int(tracker.test_takeover)
            logits[0, holder] = math.log(0.8 / 0.2)
            boxes[0, holder] = torch.tensor(as_canvas(target))
        distractor_conf = 0.85 if index < 4 else 0.7
        logits[0, 3] = math.log(distractor_conf / (1 - distractor_conf))
        boxes[0, 3] = torch.tensor(as_canvas(DISTRACTOR))
        out.update(logits=logits, boxes=boxes)
        tracker.test_log.append({k: v.clone() for k, v in out.items()})
        return out

    return decode


def test_online_logic_on_a_clip_where_the_target_leaves_re_enters_and_jumps(tmp_path):
    tracker, _ = tracker_for(tiny(), tmp_path, presence_threshold=0.75, position_weight=0.5)
    tracker.test_log, tracker.test_takeover = [], 0
    tracker.model.decode = scripted_decode(tracker, tracker.model.decode)
    tracker.model.similarity = lambda feature, image_map, boxes: torch.ones(boxes.shape[:2])
    default_queries, default_refs = tracker.model.default_state(1)
    frame = np.zeros((96, 128, 3), dtype=np.uint8)
    tracker.initialize(frame, TARGET[0])
    results, actives, memory_sizes = [], [], []
    for index in range(1, len(TARGET)):
        if index == 9:
            tracker.test_takeover = 1  # after the jump, another local tracker holds the target
        results.append(tracker.track(frame))
        ctx = tracker.state.context
        actives.append(int(ctx.active))
        memory_sizes.append(int(ctx.memory_valid.sum()))
        if TARGET[index] is None:  # every tracker back at its default
            torch.testing.assert_close(ctx.queries, default_queries)
            torch.testing.assert_close(ctx.references, default_refs)
    present = [r.present for r in results]
    assert present == [t is not None for t in TARGET[1:]]
    for result, target in zip(results, TARGET[1:]):
        if target is not None:
            np.testing.assert_allclose(result.box, target, atol=1e-4)
            assert result.score == pytest.approx(0.8, rel=1e-5)
        else:  # the best candidate is the distractor, under theta
            assert result.score == pytest.approx(0.7, rel=1e-5)
    # The position cost kept the target over the more confident distractor in frames 1-3, and one
    # local tracker followed the smooth motion; after the jump tracker 1 took over.
    assert actives == [0, 0, 0, -1, -1, -1, 0, 0, 1]
    assert memory_sizes == [1, 2, 3, 3, 3, 3, 3, 3, 3]  # L = 3; kept while absent
    ctx = tracker.state.context
    centre = torch.tensor([(40 + 8) / 128, (70 + 6) / 96])
    torch.testing.assert_close(ctx.references[0, 1], centre)  # the activated reference = box centre
    torch.testing.assert_close(ctx.references[0, 0], default_refs[0, 0])  # tracker 0 back to default
    torch.testing.assert_close(ctx.queries[0, 0], default_queries[0, 0])
    assert not torch.allclose(ctx.queries[0, 1], default_queries[0, 1])  # TCA's online query


def test_without_the_position_cost_the_distractor_wins(tmp_path):
    tracker, _ = tracker_for(tiny(), tmp_path, presence_threshold=0.75, position_weight=0.0)
    tracker.test_log, tracker.test_takeover = [], 0
    tracker.model.decode = scripted_decode(tracker, tracker.model.decode)
    tracker.model.similarity = lambda feature, image_map, boxes: torch.ones(boxes.shape[:2])
    tracker.initialize(np.zeros((96, 128, 3), dtype=np.uint8), TARGET[0])
    result = tracker.track(np.zeros((96, 128, 3), dtype=np.uint8))
    np.testing.assert_allclose(result.box, DISTRACTOR, atol=1e-4)


def test_memory_length_is_a_run_time_option(tmp_path):
    """L sizes TCA's memory buffer, not a weight: weights trained with L = 3 track with L = 1,
    which keeps exactly the newest online query (Table 2's L ablation runs this way)."""
    tracker, _ = tracker_for(tiny(memory_length=3), tmp_path, presence_threshold=0.75, memory_length=1)
    tracker.test_log, tracker.test_takeover = [], 0
    tracker.model.decode = scripted_decode(tracker, tracker.model.decode)
    tracker.model.similarity = lambda feature, image_map, boxes: torch.ones(boxes.shape[:2])
    frame = np.zeros((96, 128, 3), dtype=np.uint8)
    tracker.initialize(frame, TARGET[0])
    assert tracker.state.context.memory.shape == (1, 1, 32)
    for index in range(1, len(TARGET)):
        tracker.test_takeover = 1 if index == 9 else 0
        tracker.track(frame)
        assert int(tracker.state.context.memory_valid.sum()) == 1
    ctx = tracker.state.context
    torch.testing.assert_close(ctx.memory[0, 0], ctx.queries[0, int(ctx.active)])  # the newest query
    with pytest.raises(LongtrackError, match="memory_length"):
        tracker_for(tiny(), tmp_path, memory_length=0)


# -- training propagates the context exactly as the tracker ---------------------------------------
@pytest.mark.parametrize("init_activation", [False, True])
def test_training_forward_reproduces_the_online_tracker(tmp_path, init_activation):
    from longtrack.synth import make_sequence

    # Always activated: the context moves. Without init_activation training's first frame does not
    # know the given box, so the position cost is off; with it, training starts from that box too.
    cfg = tiny(presence_threshold=0.0, position_weight=0.5 if init_activation else 0.0,
               init_activation=init_activation)
    tracker, model = tracker_for(cfg, tmp_path)
    seq = make_sequence("mini", "test", 0, size=CANVAS)
    frames = [seq.render(i) for i in range(4)]
    box = tuple(float(v) for v in seq.boxes[0])
    log = []
    real_decode = tracker.model.decode
    tracker.model.decode = lambda *a: log.append(real_decode(*a)) or log[-1]
    tracker.initialize(frames[0], box)
    for frame in frames[1:]:
        tracker.track(frame)
    patch, transform = crop_around(frames[0], box, cfg.template_factor, cfg.template_size, pad_value=0.0)
    batch = {"template_images": torch.from_numpy(patch).permute(2, 0, 1)[None, None],
             "template_boxes": torch.tensor(transform.box_to_crop(box), dtype=torch.float32)[None, None],
             "search_images": torch.stack([torch.from_numpy(fit_frame(f, CANVAS)[0]).permute(2, 0, 1)
                                           for f in frames[1:]])[None],
             "search_masks": torch.zeros(1, 3, 96, 128, dtype=torch.bool),
             "init_boxes": torch.tensor(box, dtype=torch.float32)[None], "init_present": torch.ones(1, dtype=torch.bool)}
    with torch.no_grad():
        out = model(batch)
    assert out["activated"].tolist() == [[init_activation, True, True]]
    for t in range(3):
        torch.testing.assert_close(out["pred_logits"][0, t], log[t]["logits"][0], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(out["pred_boxes"][0, t], log[t]["boxes"][0], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(out["references"][0, t], log[t]["references"][0], rtol=1e-4, atol=1e-5)


# -- weights, sizes, registry -------------------------------------------------------------------
def test_engine_weights_load_into_the_tracker(tmp_path):
    from longtrack.checkpoint import load_weights
    from longtrack.train import train
    from longtrack.synth import make_sequence

    model = {**tiny().to_dict(), "sequence_lengths": [1, 2], "max_frame_stride": 3}
    data = {"sources": [{"name": "synthetic", "preset": "mini", "split": "train", "num_sequences": 2,
                         "frame_size": list(CANVAS)}],
            "kind": "sequence", "samples_per_epoch": 8, "templates": [{"factor": 2.0, "size": 32, "pad": 0.0}],
            "template_frames": 1, "search": {"mode": "full", "size": list(CANVAS), "pad": 0.0},
            "search_frames": 2, "max_gap": 20}
    cfg = config_from_dict({"method": "gtelt", "model": model, "data": data,
                            "train": {"steps": 2, "batch_size": 2, "log_every": 1, "ckpt_every": 2,
                                      "tensorboard": False}})
    out = train(cfg, tmp_path / "run", device="cpu")
    weights = out / "weights.pt"
    tracker = longtrack.create("gtelt", weights=str(weights))
    saved = load_weights(weights, method="gtelt").state_dict
    assert saved.keys() == tracker.model.state_dict().keys()
    assert all(torch.equal(saved[k], v) for k, v in tracker.model.state_dict().items())
    seq = make_sequence("mini", "test", 1, size=(160, 120))
    tracker.initialize(seq.render(0), seq.boxes[0])
    pred = tracker.track(seq.render(1))
    assert len(pred.box) == 4 and all(np.isfinite(pred.box)) and 0.0 <= pred.score <= 1.0


def test_a_tuned_presence_threshold_in_the_weights_is_the_default(tmp_path):
    cfg = tiny(presence_threshold=0.3)
    model = GTELTOnBatches(cfg)
    path = tmp_path / "tuned.pt"
    save_weights(path, method="gtelt", config={"model": cfg.to_dict(), "tracker": {"presence_threshold": 0.45}},
                 state_dict=model.state_dict())
    assert GTELTTracker(weights=str(path)).config.presence_threshold == 0.45
    assert GTELTTracker(weights=str(path), presence_threshold=0.2).config.presence_threshold == 0.2
    tracker_for(cfg, tmp_path)  # writes gtelt.pt without a tracker section: the model config's theta
    assert GTELTTracker(weights=str(tmp_path / "gtelt.pt")).config.presence_threshold == 0.3


def test_init_activation_is_a_run_time_option(tmp_path):
    tracker, _ = tracker_for(tiny(), tmp_path, init_activation=True)
    frame = np.zeros((96, 128, 3), dtype=np.uint8)
    tracker.initialize(frame, TARGET[0])
    assert int(tracker.state.context.active) >= 0  # the nearest local tracker starts activated
    plain, _ = tracker_for(tiny(), tmp_path)
    plain.initialize(frame, TARGET[0])
    assert not plain.config.init_activation and int(plain.state.context.active) == -1


def test_wrong_files_and_options_are_clear_errors(tmp_path):
    path = tmp_path / "other.pt"
    save_weights(path, method="procontext", config={"model": {}}, state_dict={})
    with pytest.raises(LongtrackError, match="procontext"):
        GTELTTracker(weights=str(path))
    with pytest.raises(LongtrackError, match="size"):
        GTELTTracker(size="huge")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(LongtrackError, match="presence_threshold"):
            GTELTTracker(presence_threshold=1.5)


def test_sizes_build_for_the_bench_and_missing_weights_warn():
    with pytest.warns(UserWarning, match="timing"):
        paper = GTELTTracker(size="paper")
    assert paper.config == GTELTConfig.paper()
    with pytest.warns(UserWarning, match="no weights"):
        tracker = GTELTTracker(weights=None)
    assert tracker.config == GTELTConfig.small()
    assert "gtelt" in longtrack.registry.tracker_names()


def test_the_shipped_weights_are_the_small_configuration():
    from longtrack.registry import get_tracker_spec

    assert get_tracker_spec("gtelt").weights_path() is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # shipped weights: no random-initialisation warning
        tracker = longtrack.create("gtelt")
    # The network is the small configuration; only the presence threshold is the one tuned on
    # val sequences and stored with the weights.
    tuned = load_weights(get_tracker_spec("gtelt").weights_path(), method="gtelt").config["tracker"]
    assert tracker.config.presence_threshold == pytest.approx(tuned["presence_threshold"])
    small = GTELTConfig.small()
    assert dataclasses.replace(tracker.config, presence_threshold=small.presence_threshold) == small
