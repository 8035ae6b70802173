"""TANet generator: the authors' function (official fixture), paper-size parameter count, the
converter's key handling, shapes and gradients; the discriminators' paper sizes."""
from __future__ import annotations

import copy

import pytest
import torch

from longtrack.convert import get_converter
from longtrack.convert.tanet import UNUSED_PREFIXES, convert, map_key
from longtrack.errors import LongtrackError
from longtrack.models.tanet import TANetConfig, TANetGenerator, batch_statistics, decoder_plan
from longtrack.models.tanet_discriminators import AppearanceDiscriminator, MotionDiscriminator
from longtrack.train.methods.tanet import init_decoder

# Shapes of the authors' unused classifiers at paper width (built by their __init__, never run).
PAPER_UNUSED = {"encoder.fc.weight": (1000, 512), "encoder.fc.bias": (1000,),
                "motionModel.fc6.weight": (4096, 8192), "motionModel.fc6.bias": (4096,),
                "motionModel.fc7.weight": (4096, 4096), "motionModel.fc7.bias": (4096,),
                "motionModel.fc8.weight": (487, 4096), "motionModel.fc8.bias": (487,)}


def _rel(ours: torch.Tensor, ref: torch.Tensor) -> float:
    assert ours.shape == ref.shape
    return float((ours - ref).abs().max() / ref.abs().max())


@pytest.fixture(scope="module")
def case1(shared_dir):
    root = shared_dir / "fixtures" / "official" / "tanet" / "case1"
    load = lambda name: torch.load(root / name, map_location="cpu", weights_only=True)  # noqa: E731
    torch.set_num_threads(1)
    official, inputs, outputs = load("state_dict.pt"), load("inputs.pt"), load("outputs.pt")
    config, state = convert(official)
    model = TANetGenerator(TANetConfig.from_dict(config["generator"]))
    assert all(k.startswith("generator.") for k in state)
    model.load_state_dict({k[len("generator."):]: v for k, v in state.items()}, strict=True)
    return official, inputs, outputs, model.eval(), config


def _run(model, inputs):
    with torch.no_grad():
        return model(inputs["x_current_frame"], inputs["target_object"], inputs["img_clip"])


def test_fixture_attention_map_eval_bn(case1):
    _, inputs, outputs, model, _ = case1
    out = _run(model, inputs)
    assert _rel(out["attention"], outputs["attention_map"]) < 1e-4
    assert _rel(out["logits"], outputs["logits"]) < 1e-4


def test_fixture_intermediates(case1):
    _, inputs, outputs, model, _ = case1
    out = _run(model, inputs)
    for k, level in enumerate(("layer2", "layer3", "layer4")):
        assert _rel(out["frame_features"][k], outputs[f"enc_search_{level}"]) < 1e-4
        assert _rel(out["target_features"][k], outputs[f"enc_target_{level}"]) < 1e-4
    assert _rel(out["motion"], outputs["c3d_out"]) < 1e-4
    assert _rel(out["decoder_input"], outputs["decoder_input"]) < 1e-4


def test_fixture_attention_map_batch_statistics_bn(case1):
    """The authors' test script never calls .eval(): BN uses each call's statistics."""
    _, inputs, outputs, model, _ = case1
    before = copy.deepcopy(model.state_dict())
    with batch_statistics(model):
        out = _run(model, inputs)
    assert _rel(out["attention"], outputs["attention_map_trainmode_bn"]) < 1e-4
    assert not model.training
    for key, value in model.state_dict().items():  # running statistics untouched
        if not key.endswith("num_batches_tracked"):
            assert torch.equal(value, before[key]), key
    # The two BN modes differ by far more than the tolerance: the test above can fail.
    assert (outputs["attention_map"] - outputs["attention_map_trainmode_bn"]).abs().max() > 1e-2


def test_fixture_wiring_is_checked(case1):
    """A wrong clip order moves the map by much more than the tolerance."""
    _, inputs, outputs, model, _ = case1
    reversed_clip = dict(inputs, img_clip=inputs["img_clip"].flip(1))
    assert _rel(_run(model, reversed_clip)["attention"], outputs["attention_map"]) > 1e-2


def test_converter_config_and_dropped_keys(case1):
    official, _, _, _, config = case1
    assert config["generator"] == {"width": 8, "input_size": 300, "output_size": 300, "clip_len": 3,
                                   "clip": "centered", "test_bn": "batch"}
    assert get_converter("tanet") is convert
    assert map_key("encoder.fc.weight") is None and map_key("motionModel.fc6.weight") is None
    assert map_key("mymodules.0.weight") == "head.weight"
    assert map_key("motionModel.conv3a.bias") == "motion.conv3a.bias"
    # The authors' checkpoint holds fc6..fc8 too (omitted from the fixture for size): still accepted.
    with_fc = dict(official, **{"motionModel.fc8.weight": torch.zeros(487, 64 * 8)})
    assert convert(with_fc)[1].keys() == convert(official)[1].keys()


def test_converter_rejects_foreign_and_incomplete(case1):
    official = case1[0]
    with pytest.raises(LongtrackError, match="no counterpart"):
        convert(dict(official, **{"decoder.99.gamma": torch.zeros(1)}))
    with pytest.raises(LongtrackError, match="missing"):
        convert({k: v for k, v in official.items() if not k.startswith("decoder.16.")})
    with pytest.raises(LongtrackError, match="shape mismatch"):
        convert(dict(official, **{"mymodules.0.weight": torch.zeros(8, 2, 1, 1)}))
    with pytest.raises(LongtrackError, match="not a TANet"):
        convert({"backbone.x": torch.zeros(1)})


def test_paper_size_parameter_count_and_shapes():
    """METHODS.md: 117,010,384 in the authors' model, 64,162,305 used in forward. We build the
    used part only; the rest is exactly the two unused classifiers. Shapes at 300x300."""
    torch.manual_seed(0)
    model = TANetGenerator(TANetConfig.paper()).eval()
    built = sum(p.numel() for p in model.parameters())
    assert built == 64_162_305
    unused = sum(torch.Size(s).numel() for s in PAPER_UNUSED.values())
    assert built + unused == 117_010_384
    assert all(k.startswith(UNUSED_PREFIXES) for k in PAPER_UNUSED)
    assert decoder_plan(64)[0] == 512 and model.config.decoder_in_channels == 2304
    with torch.no_grad():
        out = model(torch.rand(1, 3, 300, 300), torch.rand(1, 3, 300, 300), torch.rand(1, 3, 3, 300, 300))
    assert out["attention"].shape == (1, 1, 300, 300)
    assert out["decoder_input"].shape == (1, 2304, 19, 19)
    assert out["motion"].shape == (1, 512, 1, 38, 38)
    assert out["logits"].shape == (1, 1, 304, 304)


def test_small_shapes_gradients_and_clip_lengths():
    torch.manual_seed(0)
    model = TANetGenerator(TANetConfig.small()).train()
    frame = torch.rand(2, 3, 128, 128)
    for frames in (2, 3):
        out = model(frame, torch.rand(2, 3, 128, 128), torch.rand(2, frames, 3, 128, 128))
        assert out["attention"].shape == (2, 1, 128, 128)
        assert ((out["attention"] > 0) & (out["attention"] < 1)).all()
        assert torch.allclose(out["attention"], torch.sigmoid(out["attention_logits"]))
    out["attention_logits"].mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert model.encoder.conv1.weight.grad.abs().sum() > 0 and model.motion.conv1.weight.grad.abs().sum() > 0
    with pytest.raises(LongtrackError, match="time steps"):
        model(frame, frame, torch.rand(2, 5, 3, 128, 128))


def test_target_only_adds_a_frame_independent_map():
    """The decoder is affine (the authors' cfg['D'], no activation), so the logits are
    A(frame, clip) + B(target): changing the target patch adds the same map to every frame. The
    generator cannot compare the target with the frame; its maps can only light what the frame
    and the clip make salient (docs/methods/tanet.md, "Why the generator cannot find the target")."""
    torch.manual_seed(0)
    model = TANetGenerator(TANetConfig(width=4, input_size=128, output_size=64)).eval()
    init_decoder(model, "unit")  # a map that varies with its inputs (the default init's barely does)
    frames, targets = torch.rand(2, 3, 128, 128), torch.rand(2, 3, 128, 128)
    clips = torch.rand(2, 3, 3, 128, 128)
    with torch.no_grad():
        logits = [[model(frames[f:f + 1], targets[t:t + 1], clips[f:f + 1])["logits"] for t in range(2)]
                  for f in range(2)]
    change = [logits[f][1] - logits[f][0] for f in range(2)]  # what swapping the target adds
    scale = float(logits[0][0].std())
    assert float((logits[1][0] - logits[0][0]).std()) > 0.1 * scale  # the frame changes the map's shape
    assert float(change[0].std()) > 0.1 * scale  # the target changes it too ...
    assert torch.allclose(change[0], change[1], atol=1e-5 * scale + 1e-6)  # ... by the same map for any frame


def test_config_checks():
    assert TANetConfig().clip_offsets() == (-2, -1, 0)
    assert TANetConfig(clip="centered").clip_offsets() == (-1, 0, 1)
    assert TANetConfig(clip_len=2).clip_offsets() == (-1, 0)
    with pytest.raises(LongtrackError, match="unknown key"):
        TANetConfig.from_dict({"widht": 8})
    with pytest.raises(LongtrackError, match="clip"):
        TANetConfig.from_dict({"clip": "future"})
    with pytest.raises(LongtrackError, match="clip_len"):
        TANetConfig(clip_len=4)


def test_discriminators_paper_sizes_and_outputs():
    """Tables I and II at 300x300: fc inputs 57,600 and 900, as the authors' code."""
    with torch.device("meta"):  # counting only: no memory, no initialisation time
        app, mot = AppearanceDiscriminator(64, 300), MotionDiscriminator(64, 300)
    assert app.fc4[0].in_features == 57_600 and mot.fc4[0].in_features == 900
    assert sum(p.numel() for p in app.parameters()) == 15_969_761
    assert sum(p.numel() for p in mot.parameters()) == 28_347_749
    small_app, small_mot = AppearanceDiscriminator(8, 128), MotionDiscriminator(8, 128)
    clip, maps = torch.rand(2, 3, 3, 128, 128), torch.rand(2, 3, 1, 128, 128)
    logit = small_mot(clip, maps)
    assert logit.shape == (2, 1)
    logit.sum().backward()
    assert small_mot.motionModel.conv1.weight.grad.abs().sum() > 0
    assert small_app(clip[:, 0], maps[:, 0]).shape == (2, 1)
    relu = AppearanceDiscriminator(8, 128, relu_output=True).eval()
    assert (relu(clip[:, 0] - 5, maps[:, 0]) >= 0).all()  # the authors' ReLU: probability >= 0.5


def test_convert_command_then_track_with_the_authors_function(case1, tmp_path, shared_dir):
    """`longtrack convert` -> a weights file the tanet wrapper loads, with the authors' inference
    settings (batch-statistics BN, centered clip), computing the fixture's map."""
    from longtrack.cli import main
    from longtrack.models.tanet import batch_statistics as bs
    from longtrack.trackers.tanet import TANetTracker

    _, inputs, outputs, _, _ = case1
    out = tmp_path / "tanet-official.pt"
    official = shared_dir / "fixtures" / "official" / "tanet" / "case1" / "state_dict.pt"
    assert main(["convert", "--method", "tanet", "--official", str(official), "--out", str(out)]) == 0
    tracker = TANetTracker(weights=str(out), local_tracker="kcf")
    assert tracker.config.test_bn == "batch" and tracker.config.clip == "centered"
    with torch.no_grad(), bs(tracker.generator):
        att = tracker.generator(inputs["x_current_frame"], inputs["target_object"], inputs["img_clip"])["attention"]
    assert _rel(att, outputs["attention_map_trainmode_bn"]) < 1e-4
    frame = (torch.rand(120, 160, 3) * 255).to(torch.uint8).numpy()
    tracker.initialize(frame, (50, 40, 30, 20))
    assert tracker.attention(frame).shape == (300, 300)
