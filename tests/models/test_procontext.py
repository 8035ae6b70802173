"""ProContEXT network: the authors' fixture reproduced through the converter, the paper-size
build, shapes, gradients, elimination counts and the config contract."""
from pathlib import Path

import pytest
import torch

from longtrack.convert import get_converter, unwrap_official
from longtrack.convert.procontext import convert, infer_config, map_key
from longtrack.errors import LongtrackError
from longtrack.models.procontext import ProContEXT, ProContEXTConfig

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[2]
PAPER_PARAMETERS = 92_825_733  # shared/docs/METHODS.md: the authors' model at paper configuration


def relative_error(ours: torch.Tensor, ref: torch.Tensor) -> float:
    ours, ref = ours.double(), ref.double()
    return float((ours - ref).abs().max() / ref.abs().max())


@pytest.fixture(scope="module")
def case(shared_dir):
    root = shared_dir / "fixtures" / "official" / "procontext" / "case1"
    load = lambda name: torch.load(root / name, weights_only=True)  # noqa: E731
    return load("state_dict.pt"), load("inputs.pt"), load("outputs.pt")


@pytest.fixture(scope="module")
def fixture_model(case):
    official, _, _ = case
    config, state = convert(official, {"num_heads": 4})  # head_dim 16 is not in the shapes
    model = ProContEXT(ProContEXTConfig.from_dict(config)).eval()
    model.load_state_dict(state, strict=True)
    return model


def test_official_fixture_is_reproduced(case, fixture_model):
    _, inputs, ref = case
    with torch.no_grad():
        out = fixture_model([inputs[f"template_{k}"] for k in range(4)], inputs["search"])
    errors = {key: relative_error(out[key], ref[key]) for key in ("score_map", "size_map", "offset_map")}
    errors["pred_boxes"] = relative_error(out["pred_boxes"], ref["pred_boxes"].view(1, 4))
    errors["score"] = relative_error(out["score"], ref["score"].view(1))
    errors["backbone_feat"] = relative_error(out["features"], ref["backbone_feat"])
    print("\nrelative error vs the authors' outputs: " + ", ".join(f"{k} {v:.1e}" for k, v in errors.items()))
    assert max(errors.values()) < 1e-4, errors
    # candidate elimination keeps and removes exactly the authors' tokens (as sets)
    for i, layer in enumerate((3, 6, 9)):
        kept = out["kept_search_indices"][i][0].sort().values
        assert torch.equal(kept, ref[f"kept_index_s_layer{layer}"][0].long().sort().values), layer
        removed = out["removed_search_indices"][i][0].sort().values
        assert torch.equal(removed, ref[f"removed_indexes_s_{i}"][0].long().sort().values), layer


def test_converter_maps_every_key_and_infers_the_config(case):
    official, _, _ = case
    assert all(map_key(k) is not None for k in official)
    config = infer_config(official, {"num_heads": 4})
    assert (config.embed_dim, config.depth, config.template_size, config.search_size,
            config.head_channels, config.pretrain_grid) == (64, 12, 192, 384, 64, 14)
    assert map_key("box_head.conv3_offset.1.running_var") == "head.offset.2.1.running_var"
    assert map_key("box_head.conv5_ctr.weight") == "head.score.4.weight"
    assert get_converter("procontext") is convert
    assert unwrap_official({"net": official, "epoch": 300}) is official


def test_converter_is_strict(case):
    official, _, _ = case
    with pytest.raises(LongtrackError, match="no counterpart"):
        convert({**official, "backbone.dist_token": torch.zeros(1, 1, 64)}, {"num_heads": 4})
    missing = {k: v for k, v in official.items() if k != "box_head.conv2_size.1.running_mean"}
    with pytest.raises(LongtrackError, match="does not cover"):
        convert(missing, {"num_heads": 4})
    with pytest.raises(LongtrackError, match="unknown key"):
        convert(official, {"num_head": 4})
    with pytest.raises(LongtrackError, match="no converter"):
        get_converter("nonexistent")


def test_convert_command_writes_weights_that_reproduce_the_fixture(case, shared_dir, tmp_path):
    from longtrack.checkpoint import load_weights
    from longtrack.cli import main

    _, inputs, ref = case
    source = shared_dir / "fixtures" / "official" / "procontext" / "case1" / "state_dict.pt"
    out_file = tmp_path / "converted.pt"
    assert main(["convert", "--method", "procontext", "--official", str(source),
                 "--out", str(out_file), "--set", "num_heads=4"]) == 0
    weights = load_weights(out_file, method="procontext")
    model = ProContEXT(ProContEXTConfig.from_dict(weights.model_config)).eval()
    model.load_state_dict(weights.state_dict, strict=True)
    with torch.no_grad():
        out = model([inputs[f"template_{k}"] for k in range(4)], inputs["search"])
    assert relative_error(out["score_map"], ref["score_map"]) < 1e-4
    assert main(["convert", "--method", "procontext", "--official", str(tmp_path / "none.pt"),
                 "--out", str(tmp_path / "x.pt")]) == 1


def test_paper_size_parameter_count_and_forward():
    torch.manual_seed(0)
    model = ProContEXT(ProContEXTConfig.paper()).eval()
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"\nProContEXT paper size: {total:,} parameters ({trainable:,} trainable; the rest are the "
          f"pre-training cls token and 224-px positional table the authors' module also carries)")
    assert total == PAPER_PARAMETERS
    assert total - trainable == 768 + 197 * 768
    templates = torch.randn(1, 4, 3, 192, 192)
    with torch.no_grad():
        out = model(templates, torch.randn(1, 3, 384, 384))
    assert out["score_map"].shape == (1, 1, 24, 24) and out["size_map"].shape == (1, 2, 24, 24)
    assert out["features"].shape == (1, 4 * 144 + 576, 768)
    assert [k.shape[1] for k in out["kept_search_indices"]] == [404, 283, 199]  # 576 * 0.7^n, ceil


def small_inputs(batch=2, seed=0, config=None):
    config = config or ProContEXTConfig.small()
    g = torch.Generator().manual_seed(seed)
    z, x = config.template_size, config.search_size
    return (torch.randn(batch, config.num_templates, 3, z, z, generator=g),
            torch.randn(batch, 3, x, x, generator=g))


def test_small_model_shapes_counts_and_gradients():
    torch.manual_seed(0)
    model = ProContEXT(ProContEXTConfig.small()).train()
    total = sum(p.numel() for p in model.parameters())
    print(f"\nProContEXT small size: {total:,} parameters")
    assert total == 1_624_549
    templates, search = small_inputs()
    out = model(templates, search)
    assert out["score_map"].shape == (2, 1, 10, 10)
    assert out["pred_boxes"].shape == (2, 4) and out["score"].shape == (2,)
    assert torch.all((out["pred_boxes"][:, 2:] > 0) & (out["pred_boxes"][:, 2:] < 1))
    torch.testing.assert_close(out["score"], out["score_map"].flatten(1).max(1).values)
    assert [k.shape[1] for k in out["kept_search_indices"]] == [70, 49, 35]  # ceil(0.7 * n)
    loss = out["score_map"].mean() + out["pred_boxes"].sum() + out["size_map"].mean()
    loss.backward()
    no_grad = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert no_grad == []
    # the warm-up override: keep everything
    with torch.no_grad():
        assert model.eval()(templates, search, keep_ratio=1.0)["kept_search_indices"] == []
    with pytest.raises(ValueError, match="expects 4 templates"):
        model(templates[:, :2], search)


def test_a_fresh_head_starts_at_the_targets_base_rates():
    # Score p = 1/F^2 (one positive cell), size 1/search_factor of the crop, offset half a cell:
    # from scratch the focal loss then starts near its positive term, not at ~50.
    model = ProContEXT(ProContEXTConfig.small())
    head = model.head
    assert torch.sigmoid(head.score[-1].bias).item() == pytest.approx(1 / 100)
    torch.testing.assert_close(torch.sigmoid(head.size[-1].bias), torch.full((2,), 1 / 5.0))
    torch.testing.assert_close(head.offset[-1].bias.detach(), torch.full((2,), 0.5))
    with torch.no_grad():
        out = model.eval()(*small_inputs())
    assert out["score_map"].mean().item() < 0.1


def test_ranking_uses_the_centre_token_of_every_template():
    # small: 5 x 5 tokens per template, centre (2, 2) = token 12 of each of the 4 templates
    assert ProContEXT(ProContEXTConfig.small()).rank_rows.tolist() == [12, 37, 62, 87]
    # paper: 12 x 12 tokens, OSTrack's CTR_POINT cell (5, 5) = token 65
    tiny_paper_grid = ProContEXTConfig(embed_dim=32, depth=1, num_heads=2, ce_locations=(),
                                       ce_keep_ratios=(), head_channels=8)
    assert ProContEXT(tiny_paper_grid).rank_rows.tolist() == [65, 209, 353, 497]


def test_config_round_trip_and_errors():
    config = ProContEXTConfig.small()
    assert ProContEXTConfig.from_dict(config.to_dict()) == config
    with pytest.raises(LongtrackError, match="unknown key"):
        ProContEXTConfig.from_dict({"embed_dims": 64})
    with pytest.raises(LongtrackError, match="depth"):
        ProContEXTConfig.from_dict({"depth": "12"})
    with pytest.raises(LongtrackError, match="same length|differ"):
        ProContEXTConfig(ce_locations=(3,), ce_keep_ratios=())
    with pytest.raises(LongtrackError, match="ce_start <= ce_end"):
        ProContEXTConfig(ce_start=0.5, ce_end=0.2)


@pytest.mark.parametrize("name, preset", [("procontext-paper.yaml", ProContEXTConfig.paper),
                                          ("procontext-synth.yaml", ProContEXTConfig.small)])
def test_config_files_model_sections_equal_the_presets(name, preset):
    from longtrack.train.config import DataConfig, OptimConfig, ScheduleConfig, TrainSection
    from longtrack.typed_config import ConfigSource, parse_dataclass

    src, data = ConfigSource.from_file(REPO / "configs" / name)
    assert data["method"] == "procontext"
    assert ProContEXTConfig.from_dict(data["model"], source=name) == preset()
    # the other sections follow the training engine's schema (the engine parses the model
    # section into ProContEXTConfig the same way)
    assert parse_dataclass(ProContEXTConfig, data["model"], src, ("model",)) == preset()
    sections = {"data": DataConfig, "optim": OptimConfig, "schedule": ScheduleConfig, "train": TrainSection}
    for key, cls in sections.items():
        parse_dataclass(cls, data[key], src, (key,))
    search = parse_dataclass(DataConfig, data["data"], src, ("data",)).search
    assert (search.factor, search.size) == (preset().search_factor, preset().search_size)
