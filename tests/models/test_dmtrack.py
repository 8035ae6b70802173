"""DMTrack network: paper-size parameter counts (shared/docs/METHODS.md), the synthetic config, the
training forward's shapes and gradients, the ablation's correlations, re-id sampling."""
from pathlib import Path

import pytest
import torch
import yaml

from longtrack.backbones.dla import IDAUp
from longtrack.errors import LongtrackError
from longtrack.models.dmtrack import CORRELATIONS, DMTrack, DMTrackConfig
from longtrack.models.dmtrack.conditioning import modulate
from longtrack.models.dmtrack.reid import sample_embeddings
from longtrack.train.methods.dmtrack import DMTrackForTraining

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[2]


def num_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_size_parameter_counts_match_the_authors_model():
    model = DMTrack(DMTrackConfig.paper().replace(reid_dim=0))
    parts = {name: num_params(getattr(model, name))
             for name in ("backbone", "neck", "bbox_head", "template", "controller", "cond_modulator")}
    # METHODS.md: backbone 19,750,078 counts the authors' final IDAUp, built but never called (not built here).
    unused_ida_up = num_params(IDAUp(128, [128, 256, 512], [1, 2, 4]))
    assert parts["backbone"] + unused_ida_up == 19_750_078
    assert parts == {"backbone": 19_750_078 - unused_ida_up, "neck": 2_000_384, "bbox_head": 4_724_714,
                     "template": 197_376, "controller": 34_211_840, "cond_modulator": 16_448}
    assert num_params(model) + unused_ida_up == 60_900_840
    with_reid = DMTrack(DMTrackConfig.paper())  # our re-id branch: 128-d at stride 4 on level 2 + P3
    assert num_params(with_reid.reid) == (64 + 256) * 256 * 9 + 256 + 256 * 128 + 128


def test_paper_size_runs_at_the_paper_input_size():
    model = DMTrack(DMTrackConfig.paper()).eval()
    with torch.no_grad():
        feats = model.features(model.normalise(torch.rand(1, 3, 512, 736) * 255))
        query = model.query(feats["pyramid"], torch.tensor([[0.0, 300.0, 200.0, 400.0, 290.0]]))
        levels = model.detect(feats["pyramid"], query["conditions"])
        embedding = model.embed(feats)
    assert [tuple(lv["cls_score"].shape) for lv in levels] == [(1, 2, 64, 92), (1, 2, 32, 46), (1, 2, 16, 23)]
    assert query["conditions"][0]["cls1"].shape == (1, 256, 256) and query["conditions"][0]["reg2"].shape == (1, 32, 32)
    assert embedding.shape == (1, 128, 128, 184)


def test_configs_are_the_paper_and_small_presets():
    for name, preset in (("dmtrack-synth.yaml", DMTrackConfig.small()), ("dmtrack-paper.yaml", DMTrackConfig.paper()),
                         ("dmtrack-real.yaml", DMTrackConfig.real())):
        section = yaml.safe_load((REPO / "configs" / name).read_text())["model"]
        assert DMTrackConfig.from_dict(section) == preset, name


def test_config_rejects_bad_values():
    with pytest.raises(LongtrackError, match="divisible"):
        DMTrackConfig(head_channels=48, gn_groups=32)
    with pytest.raises(LongtrackError, match="correlation"):
        DMTrackConfig(correlation="cosine")
    with pytest.raises(LongtrackError, match="unknown key"):
        DMTrackConfig.from_dict({"head_chanels": 64})


def make_batch(num_images=2, size=(128, 160)):
    """Two images with instances of three sizes (one per level under ``tiny_config``'s ranges), the same
    ids in both frames; the second image has one instance."""
    torch.manual_seed(0)
    height, width = size
    boxes = torch.tensor([[[10.0, 12.0, 24.0, 20.0], [30.0, 20.0, 120.0, 100.0], [80.0, 70.0, 50.0, 40.0]]])
    boxes = boxes.repeat(num_images, 1, 1)
    return {
        "template_images": (torch.rand(num_images, 1, 3, height, width) * 255).to(torch.uint8),
        "search_images": (torch.rand(num_images, 1, 3, height, width) * 255).to(torch.uint8),
        "template_instance_boxes": boxes[:, None],
        "search_instance_boxes": (boxes + torch.tensor([4.0, 2.0, 0.0, 0.0]))[:, None],
        "template_instance_ids": torch.tensor([[3, 7, 9], [5, -1, -1]])[:, None],
        "search_instance_ids": torch.tensor([[3, 7, 9], [5, -1, -1]])[:, None],
    }


def tiny_config(**changes) -> DMTrackConfig:
    """A tiny network whose regress ranges put make_batch's 24-, 50- and 120-pixel boxes on P3, P4, P5."""
    return DMTrackConfig.small().replace(dla_channels=(4, 4, 8, 8, 16, 16), head_channels=16, mid_channels=8,
                                         gn_groups=8, reid_dim=8, reid_channels=8,
                                         regress_ranges=((-1, 16), (16, 32), (32, 1e8)), **changes)


def test_training_forward_shapes():
    model = DMTrackForTraining(tiny_config(), num_identities=10)
    out = model(make_batch())
    points = 16 * 20 + 8 * 10 + 4 * 5
    assert out["cls_score"].shape == (4, points, 2)  # 4 queries: the padded instances are skipped
    assert out["bbox_pred"].shape == (4, points, 4) and out["centerness"].shape == (4, points)
    assert out["points"].shape == (points, 2) and out["level_index"].tolist().count(2) == 20
    assert out["query_ids"].tolist() == [3, 7, 9, 5]
    torch.testing.assert_close(out["query_boxes"][1], torch.tensor([34.0, 22.0, 154.0, 122.0]))
    assert out["search_embedding"].shape == (2, 8, 32, 40)
    assert out["reid_logits"].shape == (8, 10) and out["reid_labels"].tolist() == [3, 7, 9, 5] * 2


def test_every_trainable_parameter_gets_a_gradient():
    from longtrack.train.methods.dmtrack import criterion_for

    config = tiny_config()
    model = DMTrackForTraining(config, num_identities=10).train()
    for p in model.parameters():  # DCN offsets start at 0; move them so every path is exercised
        p.data.add_(0.01 * torch.randn_like(p))
    out = model(make_batch())
    losses = criterion_for(config)(out, {})
    losses["loss"].backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert missing == []
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


@pytest.mark.parametrize("kind", CORRELATIONS)
def test_every_correlation_of_the_ablation_trains(kind):
    from longtrack.train.methods.dmtrack import criterion_for

    config = tiny_config(correlation=kind)
    model = DMTrackForTraining(config, num_identities=10)
    assert (model.controller is None) == (kind != "dynamic")
    out = model(make_batch())
    criterion_for(config)(out, {})["loss"].backward()
    assert model.bbox_head.cls_convs[0].conv.weight.grad.abs().sum() > 0
    assert model.template.fpn_modulator[0].weight.grad.abs().sum() > 0


def test_correlations_on_a_hand_made_case():
    x = torch.arange(2 * 3 * 3, dtype=torch.float32).view(1, 2, 3, 3)
    template = torch.ones(1, 2, 1, 1)
    torch.testing.assert_close(modulate("hadamard", x, template * 2), 2 * x)
    torch.testing.assert_close(modulate("dwxcorr", x, template), x)
    # xcorr with a 1x1 all-ones template: mean over channels gates x
    torch.testing.assert_close(modulate("xcorr", x, template), x * x.mean(dim=1, keepdim=True))
    weight = torch.tensor([[[1.0, -1.0], [0.0, 2.0]]])  # [Q, C_out, C_in]
    expected = torch.stack([torch.relu(x[0, 0] - x[0, 1]), 2 * x[0, 1]])[None]
    torch.testing.assert_close(modulate("dynamic", x, weight), expected)


def test_reid_embeddings_are_read_at_the_point():
    height, width = 6, 8
    embedding = torch.zeros(1, height * width, height, width)
    for i in range(height):
        for j in range(width):
            embedding[0, i * width + j, i, j] = 1.0  # one-hot per cell
    points = torch.tensor([[4 * 3 + 1.5, 4 * 2 + 1.5], [0.0, 0.0], [1000.0, 1000.0]])
    picked = sample_embeddings(embedding, torch.zeros(3, dtype=torch.long), points)
    assert picked[0].argmax() == 2 * width + 3 and picked[0].max() == pytest.approx(1.0)
    assert picked[2].argmax() == height * width - 1  # clamped to the last cell
    torch.testing.assert_close(picked.norm(dim=1), torch.ones(3))


def test_preprocess_rescales_like_the_authors_and_pads_with_the_mean():
    import numpy as np

    from longtrack.models.dmtrack import preprocess_image
    from longtrack.models.dmtrack.preprocess import rescale_factor

    assert rescale_factor(360, 480, (736, 512)) == pytest.approx(512 / 360)  # short side binds: 683x512
    assert rescale_factor(240, 1280, (736, 512)) == pytest.approx(736 / 1280)  # long side binds
    config = DMTrackConfig.small()
    frame = np.full((360, 480, 3), 200, dtype=np.uint8)
    image, scale, hw = preprocess_image(frame, config)
    assert scale == pytest.approx(192 / 360) and hw == (192, 256) and image.shape == (1, 3, 192, 256)
    image, scale, hw = preprocess_image(frame[:, :400], config)  # 400x360 -> 213x192, padded to 224
    assert hw == (192, 213) and image.shape == (1, 3, 192, 224)
    normalised = DMTrack(config).normalise(image)
    assert normalised[..., 213:].abs().max() < 1e-5 and normalised[..., :213].min() > 1.0
