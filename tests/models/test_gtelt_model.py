"""GTELT's network: paper size and its parameter count, configs, shapes and gradients through a
propagated sequence, TCA, the Table 1 ablations, positional encodings, the similarity."""
import dataclasses
import re
from pathlib import Path

import pytest
import torch

from longtrack.models.gtelt import GTELT, GTELTConfig, initial_context
from longtrack.models.gtelt.encoder import sine_grid_encoding
from longtrack.train.config import load_config
from longtrack.train.methods.gtelt import GTELTOnBatches

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[2]
PAPER_PARAMETERS = 23_959_175  # measured; docs/methods/gtelt.md quotes it (checked below)


def tiny(**overrides) -> GTELTConfig:
    values = dict(backbone_depth=18, backbone_width=8, backbone_frozen_stages=-1, backbone_norm_eval=False,
                  hidden_dim=32, num_heads=4, encoder_layers=1, encoder_ffn_dim=64, decoder_layers=2,
                  decoder_ffn_dim=64, dropout=0.0, num_trackers=4, memory_length=3, template_size=32,
                  image_size=(128, 96), presence_threshold=0.0)
    return GTELTConfig(**{**values, **overrides})


def random_batch(cfg: GTELTConfig, batch: int, length: int, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    width, height = cfg.image_size
    side = cfg.template_size
    boxes = torch.tensor([40.0, 30.0, 24.0, 20.0]).repeat(batch, length, 1)
    boxes[..., 0] += torch.arange(length) * 6.0
    return {
        "template_images": torch.randint(0, 256, (batch, 1, 3, side, side), generator=g, dtype=torch.uint8),
        "template_boxes": torch.tensor([side / 4, side / 4, side / 2, side / 2]).repeat(batch, 1, 1),
        "search_images": torch.randint(0, 256, (batch, length, 3, height, width), generator=g, dtype=torch.uint8),
        "search_masks": torch.zeros(batch, length, height, width, dtype=torch.bool),
        "search_boxes": boxes,
        "search_present": torch.ones(batch, length, dtype=torch.bool),
    }


def test_paper_size_builds_with_the_paper_inputs_and_its_count_is_documented():
    model = GTELT(GTELTConfig.paper()).eval()
    assert sum(p.numel() for p in model.parameters()) == PAPER_PARAMETERS
    assert model.encoder.backbone_channels == 1024  # ResNet-50 conv4
    z = torch.randn(1, 3, 128, 128)
    x = torch.randn(1, 3, 480, 640)
    with torch.no_grad():
        out = model(z, torch.tensor([[32.0, 32.0, 64.0, 64.0]]), x)
    assert out["logits"].shape == (1, 10) and out["boxes"].shape == (1, 10, 4)
    assert out["embeddings"].shape == (1, 10, 256)
    docs = (REPO / "docs" / "methods" / "gtelt.md").read_text()
    assert f"{PAPER_PARAMETERS:,}" in docs


def test_configs_match_the_presets():
    assert load_config(REPO / "configs" / "gtelt-paper.yaml").model == GTELTConfig.paper()
    assert load_config(REPO / "configs" / "gtelt-synth.yaml").model == GTELTConfig.small()


def test_config_round_trips_and_rejects_bad_values():
    cfg = GTELTConfig.small()
    assert GTELTConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(Exception, match="num_trackers"):
        GTELTConfig.from_dict({"num_trackers": 0})
    with pytest.raises(Exception, match="unknown key"):
        GTELTConfig.from_dict({"num_tracker": 3})


@pytest.mark.parametrize("overrides", [{}, {"cross_attention": "global"}, {"num_trackers": 1}])
def test_sequence_forward_shapes_and_every_parameter_gets_a_gradient(overrides):
    cfg = tiny(**overrides)
    model = GTELTOnBatches(cfg).train()
    batch = random_batch(cfg, batch=2, length=3)
    out = model(batch)
    n = cfg.num_trackers
    assert out["pred_logits"].shape == (2, 3, n) and out["pred_boxes"].shape == (2, 3, n, 4)
    assert out["references"].shape == (2, 3, n, 2) and out["similarity"].shape == (2, 3, n)
    assert ((out["pred_boxes"] >= 0) & (out["pred_boxes"] <= 1)).all()
    # theta = 0: a tracker is activated after every frame, so TCA is trained through the sequence.
    assert out["activated"].tolist() == [[False, True, True]] * 2
    loss = out["pred_logits"].sigmoid().sum() + out["pred_boxes"].sum() + out["references"][:, 0].sum()
    loss.backward()
    missing = [name for name, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, missing


def test_training_forward_equals_one_frame_forward_on_the_first_frame():
    cfg = tiny()
    model = GTELTOnBatches(cfg).eval()
    batch = random_batch(cfg, batch=1, length=2)
    with torch.no_grad():
        seq = model(batch)
        single = GTELT.forward(model, model.normalise(batch["template_images"][:, 0]), batch["template_boxes"][:, 0],
                               model.normalise(batch["search_images"][:, 0]))
    torch.testing.assert_close(seq["pred_logits"][:, 0], single["logits"])
    torch.testing.assert_close(seq["pred_boxes"][:, 0], single["boxes"])


@pytest.mark.parametrize("template_norm", ["running", "batch"])
def test_template_norm_in_training(template_norm):
    """"running": in training the template is normalised with the running statistics (as at
    inference) and only the frames update them; "batch": the template batch's own statistics."""
    cfg = tiny(template_norm=template_norm)
    torch.manual_seed(0)
    model = GTELTOnBatches(cfg).train()
    bn = model.encoder.backbone.bn1
    initial = bn.running_mean.clone()
    calls = []  # (training, input width, running mean after the call) per call of the first BatchNorm
    hook = bn.register_forward_hook(lambda module, inputs, output: calls.append(
        (module.training, inputs[0].shape[-1], module.running_mean.clone())))
    model(random_batch(cfg, batch=2, length=2))
    hook.remove()
    (template_training, template_width, after_template), (frame_training, frame_width, after_frames) = calls
    assert (template_width, frame_width) == (cfg.template_size // 2, cfg.image_size[0] // 2)  # after conv1
    assert frame_training and not torch.equal(after_template, after_frames)  # the frames update them
    if template_norm == "running":
        assert not template_training and torch.equal(after_template, initial)
    else:
        assert template_training and not torch.equal(after_template, initial)
    assert all(m.training for m in model.modules())  # train mode restored after the template


def test_start_context_activates_the_tracker_nearest_to_the_given_box():
    from longtrack.models.gtelt import start_context

    cfg = tiny()
    model = GTELT(cfg).eval()
    queries, references = model.default_state(2)
    centre = references[:, 2].detach() + torch.tensor([[0.01, -0.01], [0.0, 0.0]])  # near tracker 2
    with torch.no_grad():
        ctx = start_context(model, centre, torch.tensor([True, False]))
        plain = start_context(model, centre, torch.tensor([True, False]), activate=False)
        osdet = start_context(model, centre, torch.tensor([True, True]), temporal_transfer=False)
        online = model.aggregate(queries[:1, 2], ctx.memory[:1] * 0, torch.zeros(1, cfg.memory_length, dtype=torch.bool))
    assert ctx.active.tolist() == [2, -1] and ctx.last_present.tolist() == [True, False]
    torch.testing.assert_close(ctx.references[0, 2], centre[0])
    torch.testing.assert_close(ctx.queries[0, 2], online[0])  # TCA's FFNs of its default query
    others = [0, 1, 3]
    torch.testing.assert_close(ctx.references[0, others], references[0, others])
    torch.testing.assert_close(ctx.queries[1], queries[1])  # absent: nothing activated, nothing known
    assert int(ctx.memory_valid[0].sum()) == 1 and int(ctx.memory_valid[1].sum()) == 0
    torch.testing.assert_close(plain.last_centre[0], centre[0])  # activate=False: only the position is known
    assert plain.active.tolist() == [-1, -1] and torch.equal(plain.references, references)
    assert osdet.active.tolist() == [-1, -1] and torch.equal(osdet.references, references)


def test_osdet_never_moves_the_trackers():
    cfg = tiny(temporal_transfer=False)
    model = GTELTOnBatches(cfg).eval()
    with torch.no_grad():
        out = model(random_batch(cfg, batch=1, length=3))
        default = model.default_state(1)[1]
    assert not out["activated"].any()
    for t in range(3):
        torch.testing.assert_close(out["references"][:, t], default)


def test_tca_runs_only_the_ffns_on_an_empty_memory_and_ignores_empty_slots():
    cfg = tiny()
    tca = GTELT(cfg).tca.eval()
    e = torch.randn(2, 32)
    memory = torch.randn(2, 3, 32)
    empty = torch.zeros(2, 3, dtype=torch.bool)
    torch.testing.assert_close(tca(e, memory, empty), tca.ffn2(tca.ffn1(e)))
    valid = torch.tensor([[False, True, True], [False, False, False]])
    out = tca(e, memory, valid)
    changed = memory.clone()
    changed[:, 0] = 100.0  # an empty slot's content never matters
    torch.testing.assert_close(tca(e, changed, valid), out)
    torch.testing.assert_close(out[1], tca.ffn2(tca.ffn1(e[1:])).squeeze(0))  # row without memory
    assert not torch.allclose(out[0], tca.ffn2(tca.ffn1(e[:1])).squeeze(0))


def test_sine_grid_encoding_normalises_over_the_unpadded_part():
    mask = torch.zeros(1, 3, 6, dtype=torch.bool)
    mask[:, :, 4:] = True
    padded = sine_grid_encoding(mask, 16).view(1, 3, 6, 16)[:, :, :4]
    plain = sine_grid_encoding(torch.zeros(1, 3, 4, dtype=torch.bool), 16).view(1, 3, 4, 16)
    torch.testing.assert_close(padded, plain)
    assert not torch.allclose(plain[0, 0, 0], plain[0, 0, 1])  # positions differ


def test_similarity_is_one_for_the_template_region_itself():
    cfg = tiny()
    model = GTELT(cfg).eval()
    image = torch.randn(1, 3, 96, 128)
    with torch.no_grad():
        # The template's feature from an image's box equals the candidate feature of that box.
        feature_map = model.encoder.backbone_features(image)
        pixel_box = torch.tensor([[32.0, 16.0, 48.0, 40.0]])  # xywh
        template_feature = model.encode_template(image, pixel_box)["feature"]
        cx, cy = (32 + 24) / 128, (16 + 20) / 96
        boxes = torch.tensor([[[cx, cy, 48 / 128, 40 / 96], [0.85, 0.85, 0.2, 0.2]]])
        sim = model.similarity(template_feature, feature_map, boxes)
    assert sim[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert 0.0 <= float(sim[0, 1]) < 1.0


def test_initial_context_is_the_default_trackers_with_an_empty_memory():
    cfg = tiny()
    model = GTELT(cfg)
    ctx = initial_context(model, 2)
    queries, refs = model.default_state(2)
    torch.testing.assert_close(ctx.queries, queries)
    torch.testing.assert_close(ctx.references, refs)
    assert ctx.memory.shape == (2, 3, 32) and not ctx.memory_valid.any()
    assert ctx.active.tolist() == [-1, -1] and not ctx.last_present.any()
    assert ((refs > 0) & (refs < 1)).all()
    assert dataclasses.is_dataclass(ctx)
