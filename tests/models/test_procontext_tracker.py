"""ProContEXT online: the authors' post-processing and end-to-end step reproduced (a file written
by ``longtrack convert``, hence their crops), the template update rule, a synthetic clip where the
target leaves and re-enters, weights round trip."""
import math
import warnings

import numpy as np
import pytest
import torch

import longtrack
from longtrack.checkpoint import save_weights
from longtrack.crops import crop_around, crop_around_ostrack
from longtrack.errors import LongtrackError
from longtrack.models.center_head import hann_window
from longtrack.models.procontext import ProContEXT, ProContEXTConfig
from longtrack.trackers.procontext import DEFAULT_PRESENCE_THRESHOLD, ProContEXTTracker, clip_box, map_box_back

torch.set_num_threads(1)


def relative_error(ours, ref) -> float:
    ours, ref = torch.as_tensor(ours).double(), torch.as_tensor(ref).double()
    return float((ours - ref).abs().max() / ref.abs().max())


@pytest.fixture(scope="module")
def case(shared_dir):
    root = shared_dir / "fixtures" / "official" / "procontext" / "case1"
    return [torch.load(root / n, weights_only=True) for n in ("state_dict.pt", "inputs.pt", "outputs.pt")]


@pytest.fixture(scope="module")
def converted_weights(shared_dir, tmp_path_factory):
    """The fixture's checkpoint through ``longtrack convert``, as a user converts the authors' file."""
    from longtrack.cli import main

    source = shared_dir / "fixtures" / "official" / "procontext" / "case1" / "state_dict.pt"
    path = tmp_path_factory.mktemp("weights") / "fixture.pt"
    assert main(["convert", "--method", "procontext", "--official", str(source), "--out", str(path),
                 "--set", "num_heads=4"]) == 0
    return path


@pytest.fixture(scope="module")
def fixture_tracker(converted_weights):
    return ProContEXTTracker(weights=str(converted_weights))


def test_hann_window_matches_the_authors(case):
    _, _, ref = case
    torch.testing.assert_close(hann_window(24) * ref["score_map"], ref["hann_response"], rtol=1e-6, atol=0)
    assert hann_window(5)[0, 0, 2, 2] == 1.0 and hann_window(5)[0, 0, 0, 0] == pytest.approx(0.0625)


def test_post_processing_reproduces_the_authors_state(case, fixture_tracker):
    _, inputs, ref = case
    prev = inputs["prev_state_xywh"][0].tolist()
    height, width = inputs["image_hw"].tolist()
    side = math.ceil(math.sqrt(prev[2] * prev[3]) * 5.0)  # the crop the authors' resize_factor implies
    templates = torch.stack([inputs[f"template_{k}"] for k in range(4)], dim=1)
    box, confidence = fixture_tracker.locate(templates, inputs["search"], side, prev, (height, width))
    assert relative_error(box, ref["tracker_state_xywh"][0]) < 1e-4
    assert confidence == pytest.approx(float(ref["score"]), rel=1e-4)


def test_end_to_end_step_on_the_authors_crops(case, fixture_tracker):
    _, inputs, ref = case
    init = inputs["e2e_init_bbox_xywh"].tolist()
    side = math.ceil(math.sqrt(init[2] * init[3]) * 5.0)
    templates = ref["e2e_templates"].transpose(0, 1)  # [4, 1, ...] -> [1, 4, ...]
    box, _ = fixture_tracker.locate(templates, ref["e2e_search"], side, init, (240, 320))
    assert relative_error(box, ref["e2e_target_bbox_xywh"]) < 1e-4


def test_end_to_end_reproduces_the_authors_tracker(case, fixture_tracker):
    # initialize + track on the authors' frames: converted weights crop as their sample_target
    # does, so the network sees their exact pixels and the box is theirs to float precision.
    _, inputs, ref = case
    assert fixture_tracker.crop == "authors"
    fixture_tracker.initialize(inputs["e2e_frame0"].numpy(), inputs["e2e_init_bbox_xywh"].tolist())
    torch.testing.assert_close(fixture_tracker.state.templates[0], ref["e2e_templates"][:, 0], rtol=0, atol=1e-6)
    searches = []
    forward = fixture_tracker.model.forward
    fixture_tracker.model.forward = lambda templates, search, **k: searches.append(search) or forward(
        templates, search, **k)
    try:
        pred = fixture_tracker.track(inputs["e2e_frame1"].numpy())
    finally:
        del fixture_tracker.model.forward
    torch.testing.assert_close(searches[0], ref["e2e_search"], rtol=0, atol=1e-6)
    error = relative_error(pred.box, ref["e2e_target_bbox_xywh"])
    print(f"\nend-to-end with crop='authors': box relative error {error:.1e}")
    assert error < 1e-4
    assert pred.present and 0.0 <= pred.score <= 1.0


def test_exact_crops_are_an_option_and_our_weights_default_to_them(case, converted_weights, tmp_path):
    # crop="exact" (one affine warp, no lost edge row/column) differs from the authors' cut + pad +
    # cv2.resize by a few grey levels, so the box agrees to a fraction of a pixel only.
    _, inputs, ref = case
    tracker = ProContEXTTracker(weights=str(converted_weights), crop="exact")
    tracker.initialize(inputs["e2e_frame0"].numpy(), inputs["e2e_init_bbox_xywh"].tolist())
    assert (tracker.state.templates[0] - ref["e2e_templates"][:, 0]).abs().mean() < 0.01
    pred = tracker.track(inputs["e2e_frame1"].numpy())
    gap = np.abs(np.array(pred.box) - ref["e2e_target_bbox_xywh"].numpy()).max()
    frame, init = inputs["e2e_frame0"].numpy(), inputs["e2e_init_bbox_xywh"].tolist()
    grey = np.abs(crop_around(frame, init, 2.0, 192, pad_value=0)[0].astype(int)
                  - crop_around_ostrack(frame, init, 2.0, 192)[0].astype(int))
    print(f"\ncrop='exact' vs 'authors' on frame 0, factor 2.0: max {grey.max()} grey levels, mean {grey.mean():.2f}; "
          f"end-to-end box differs from the authors' by at most {gap:.3f} px")
    assert 0.0 < gap < 1.0
    path, _ = small_weights(tmp_path)
    assert ProContEXTTracker(weights=str(path)).crop == "exact"
    assert ProContEXTTracker(weights=str(path), crop="authors").crop == "authors"
    with pytest.raises(LongtrackError, match="crop must be one of"):
        ProContEXTTracker(weights=str(path), crop="opencv")


def test_map_back_and_clip():
    # a crop of side 100 around a box centred at (50, 60): crop (cx, cy) = (50, 50) is that centre
    assert map_box_back((50.0, 50.0, 20.0, 10.0), (40.0, 55.0, 20.0, 10.0), 100.0) == (40.0, 55.0, 20.0, 10.0)
    assert clip_box((-30.0, 5.0, 20.0, 20.0), 100, 200) == (0.0, 5.0, 10.0, 20.0)  # min width = margin
    assert clip_box((250.0, 95.0, 20.0, 20.0), 100, 200) == (190.0, 90.0, 10.0, 10.0)


def moving_square_clip(num_frames=24, size=(96, 128)):
    """A textured square that walks right, leaves the frame (frames 9-14) and comes back."""
    rng = np.random.default_rng(0)
    background = rng.integers(60, 120, size=(*size, 3), dtype=np.uint8)
    texture = np.kron((np.indices((4, 4)).sum(0) % 2) * 200 + 30, np.ones((5, 5)))[..., None].repeat(3, -1)
    xs = [10 + 12 * i for i in range(9)] + [200] * 6 + [100 - 12 * i for i in range(num_frames - 15)]
    frames, boxes = [], []
    for x in xs:
        frame = background.copy()
        x0, x1 = max(x, 0), min(x + 20, size[1])
        if x1 > x0:
            frame[30:50, x0:x1] = texture[:, x0 - x:x1 - x]
        frames.append(frame)
        boxes.append((x, 30, 20, 20))
    return frames, boxes


def small_weights(tmp_path, seed=0):
    torch.manual_seed(seed)
    model = ProContEXT(ProContEXTConfig.small())
    path = tmp_path / "small.pt"
    save_weights(path, method="procontext", config={"model": model.config.to_dict()}, state_dict=model.state_dict())
    return path, model


def test_synthetic_clip_with_exit_and_reentry(tmp_path):
    path, _ = small_weights(tmp_path)
    tracker = longtrack.create("procontext", weights=str(path), update_interval=5)
    frames, boxes = moving_square_clip()
    tracker.initialize(frames[0], boxes[0])
    for frame in frames[1:]:
        pred = tracker.track(frame)
        x, y, w, h = pred.box
        assert all(math.isfinite(v) for v in pred.box)
        assert 0 <= x <= 128 - 10 and 0 <= y <= 96 - 10 and w >= 10 and h >= 10
        assert x + w <= 128 + 1e-9 and y + h <= 96 + 1e-9
        assert 0.0 <= pred.score <= 1.0 and pred.present == (pred.score >= tracker.presence_threshold)
    assert tracker.state.frame_index == len(frames) - 1
    # re-initialising resets every piece of state
    tracker.initialize(frames[3], boxes[3])
    assert tracker.state.frame_index == 0 and tracker.state.box == tuple(float(v) for v in boxes[3])


def test_dynamic_templates_follow_the_update_rule(tmp_path):
    path, _ = small_weights(tmp_path)
    frames, boxes = moving_square_clip()
    for threshold, interval, changes in ((-1.0, 2, [False, True, False, True]),  # every 2nd frame
                                         (1.1, 1, [False] * 4)):  # confidence never exceeds 1.1
        tracker = ProContEXTTracker(weights=str(path), update_interval=interval, update_threshold=threshold)
        tracker.initialize(frames[0], boxes[0])
        static = tracker.state.templates[:, :2].clone()
        torch.testing.assert_close(tracker.state.templates[:, 2:], static)  # dynamic start as copies
        for frame, expected in zip(frames[1:5], changes):
            before = tracker.state.templates[:, 2:].clone()
            tracker.track(frame)
            assert (not torch.equal(before, tracker.state.templates[:, 2:])) == expected
            assert tracker.state.updated == expected  # what experiments/procontext/template_updates.py counts
            torch.testing.assert_close(tracker.state.templates[:, :2], static)  # static never change


def test_weights_round_trip(tmp_path):
    path, model = small_weights(tmp_path, seed=3)
    tracker = ProContEXTTracker(weights=str(path))
    for key, value in model.state_dict().items():
        assert torch.equal(tracker.model.state_dict()[key], value), key
    g = torch.Generator().manual_seed(0)
    templates, search = torch.randn(1, 4, 3, 80, 80, generator=g), torch.randn(1, 3, 160, 160, generator=g)
    with torch.no_grad():
        torch.testing.assert_close(tracker.model(templates, search)["score_map"],
                                   model.eval()(templates, search)["score_map"])
    other = tmp_path / "other.pt"
    save_weights(other, method="globaltrack", config={"model": {}}, state_dict={})
    with pytest.raises(LongtrackError, match="not 'procontext'"):
        ProContEXTTracker(weights=str(other))


def test_presence_threshold_comes_from_the_weights_unless_given(tmp_path):
    path, model = small_weights(tmp_path)
    assert ProContEXTTracker(weights=str(path)).presence_threshold == DEFAULT_PRESENCE_THRESHOLD
    tuned = tmp_path / "tuned.pt"
    save_weights(tuned, method="procontext", config={"model": model.config.to_dict(),
                                                     "tracker": {"presence_threshold": 0.17}},
                 state_dict=model.state_dict())
    assert ProContEXTTracker(weights=str(tuned)).presence_threshold == pytest.approx(0.17)
    assert ProContEXTTracker(weights=str(tuned), presence_threshold=0.5).presence_threshold == 0.5


def test_without_weights_it_builds_and_warns():
    with pytest.warns(UserWarning, match="randomly initialised"):
        tracker = ProContEXTTracker(weights=None)
    assert tracker.config == ProContEXTConfig.small()
    with pytest.warns(UserWarning, match="size='paper'"):
        assert ProContEXTTracker(size="paper").config == ProContEXTConfig.paper()
    with pytest.raises(LongtrackError, match="size must be"), warnings.catch_warnings():
        ProContEXTTracker(size="huge")
    with pytest.raises(LongtrackError, match="track\\(\\) called before"), pytest.warns(UserWarning):
        ProContEXTTracker().track(np.zeros((32, 32, 3), np.uint8))


def test_keep_ratio_option_overrides_online_elimination():
    # keep_ratio=1.0 (an ablation) runs every search token through every block.
    with pytest.warns(UserWarning):
        tracker = ProContEXTTracker(size="small", keep_ratio=1.0)
    frame = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    tracker.initialize(frame, (60, 40, 30, 24))
    calls = []
    original = tracker.model.forward
    tracker.model.forward = lambda *a, **k: calls.append(original(*a, **k)) or calls[-1]
    tracker.track(frame)
    assert calls[0]["kept_search_indices"] == []  # no block eliminated
    with pytest.raises(LongtrackError, match="keep_ratio"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ProContEXTTracker(keep_ratio=0.0)
