"""Multi-scale deformable attention against a literal transcription of the authors' CUDA kernel."""
from __future__ import annotations

import math

import pytest
import torch

from longtrack.ops import MSDeformAttn, ms_deform_attn

torch.set_num_threads(1)

SHAPES = [(4, 5), (2, 3)]


def level_start(shapes):
    starts, total = [], 0
    for h, w in shapes:
        starts.append(total)
        total += h * w
    return torch.tensor(starts), total


def reference_core(value, shapes, locations, weights):
    """ms_deform_attn_im2col_bilinear, one (batch, query, head, level, point) at a time."""
    batch, _, heads, dim = value.shape
    _, queries, _, levels, points, _ = locations.shape
    starts, _ = level_start(shapes)
    out = []
    for b in range(batch):
        per_query = []
        for q in range(queries):
            per_head = []
            for m in range(heads):
                acc = value.new_zeros(dim)
                for lv, (height, width) in enumerate(shapes):
                    v = value[b, int(starts[lv]):int(starts[lv]) + height * width, m].view(height, width, dim)
                    for p in range(points):
                        y = locations[b, q, m, lv, p, 1] * height - 0.5
                        x = locations[b, q, m, lv, p, 0] * width - 0.5
                        yv, xv = float(y.detach()), float(x.detach())
                        if not (yv > -1 and xv > -1 and yv < height and xv < width):
                            continue
                        yl, xl = math.floor(yv), math.floor(xv)
                        ly, lx = y - yl, x - xl
                        sample = value.new_zeros(dim)
                        for cy, cx, wgt in ((yl, xl, (1 - ly) * (1 - lx)), (yl, xl + 1, (1 - ly) * lx),
                                            (yl + 1, xl, ly * (1 - lx)), (yl + 1, xl + 1, ly * lx)):
                            if 0 <= cy < height and 0 <= cx < width:
                                sample = sample + wgt * v[cy, cx]
                        acc = acc + weights[b, q, m, lv, p] * sample
                per_head.append(acc)
            per_query.append(torch.cat(per_head))
        out.append(torch.stack(per_query))
    return torch.stack(out)


def make_inputs(seed, batch=2, queries=3, heads=2, dim=3, points=2):
    gen = torch.Generator().manual_seed(seed)
    starts, total = level_start(SHAPES)
    value = torch.randn(batch, total, heads, dim, generator=gen, dtype=torch.float64)
    # Locations in [-0.2, 1.2]: many samples straddle or leave the map.
    loc = torch.rand(batch, queries, heads, len(SHAPES), points, 2, generator=gen, dtype=torch.float64) * 1.4 - 0.2
    attn = torch.rand(batch, queries, heads, len(SHAPES), points, generator=gen, dtype=torch.float64)
    return value, starts, loc, attn


def test_core_matches_reference():
    value, starts, loc, attn = make_inputs(0)
    ours = ms_deform_attn(value, torch.tensor(SHAPES), starts, loc, attn)
    assert ours.shape == (2, 3, 6)
    torch.testing.assert_close(ours, reference_core(value, SHAPES, loc, attn), rtol=0, atol=1e-12)


def test_core_gradients_match_reference_autograd():
    ours_in = [t.requires_grad_(True) for t in (make_inputs(1)[i] for i in (0, 2, 3))]
    ref_in = [t.detach().clone().requires_grad_(True) for t in ours_in]
    starts = make_inputs(1)[1]
    upstream = torch.randn(2, 3, 6, dtype=torch.float64)
    (ms_deform_attn(ours_in[0], torch.tensor(SHAPES), starts, ours_in[1], ours_in[2]) * upstream).sum().backward()
    (reference_core(ref_in[0], SHAPES, ref_in[1], ref_in[2]) * upstream).sum().backward()
    for name, a, b in zip(["value", "locations", "weights"], ours_in, ref_in):
        torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=1e-10, msg=f"gradient of {name}")


def test_core_gradcheck():
    value, starts, loc, attn = make_inputs(2, batch=1, queries=2, heads=1, dim=2, points=1)
    inputs = [t.requires_grad_(True) for t in (value, loc, attn)]
    assert torch.autograd.gradcheck(
        lambda v, l, a: ms_deform_attn(v, torch.tensor(SHAPES), starts, l, a), inputs)


def test_core_rejects_inconsistent_shapes():
    value, starts, loc, attn = make_inputs(0)
    with pytest.raises(ValueError, match="spatial_shapes cover"):
        ms_deform_attn(value[:, :-1], torch.tensor(SHAPES), starts, loc, attn)


def test_module_initialisation_matches_deformable_detr():
    layer = MSDeformAttn(d_model=16, n_levels=2, n_heads=4, n_points=3)
    assert sorted(layer.state_dict()) == sorted(
        f"{n}.{p}" for n in ("sampling_offsets", "attention_weights", "value_proj", "output_proj")
        for p in ("weight", "bias"))
    bias = layer.sampling_offsets.bias.view(4, 2, 3, 2)
    # Head h looks along angle 2*pi*h/4, scaled so the larger coordinate is 1; point p at p+1.
    directions = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    for p in range(3):
        torch.testing.assert_close(bias[:, 1, p], directions * (p + 1), atol=1e-6, rtol=0)
    assert layer.sampling_offsets.weight.abs().sum() == 0
    assert layer.attention_weights.weight.abs().sum() == 0 and layer.attention_weights.bias.abs().sum() == 0


def test_module_sampling_locations_follow_reference_points():
    torch.manual_seed(0)
    layer = MSDeformAttn(d_model=8, n_levels=2, n_heads=2, n_points=2).double()
    torch.nn.init.normal_(layer.sampling_offsets.weight, std=0.5)
    torch.nn.init.normal_(layer.attention_weights.weight, std=0.5)
    starts, total = level_start(SHAPES)
    query = torch.randn(1, 3, 8, dtype=torch.float64)
    flat = torch.randn(1, total, 8, dtype=torch.float64)
    ref_points = torch.rand(1, 3, 2, 2, dtype=torch.float64)
    out = layer(query, ref_points, flat, torch.tensor(SHAPES), starts)
    # Written out: offsets in level pixels, normalised by (W, H) of each level.
    offsets = layer.sampling_offsets(query).view(1, 3, 2, 2, 2, 2)
    wh = torch.tensor([[w, h] for h, w in SHAPES], dtype=torch.float64)
    loc = ref_points[:, :, None, :, None, :] + offsets / wh[None, None, None, :, None, :]
    attn = layer.attention_weights(query).view(1, 3, 2, 4).softmax(-1).view(1, 3, 2, 2, 2)
    value = layer.value_proj(flat).view(1, total, 2, 4)
    expected = layer.output_proj(reference_core(value, SHAPES, loc, attn))
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)
    boxes = torch.cat([ref_points, torch.full_like(ref_points, 0.2)], -1)
    assert layer(query, boxes, flat, torch.tensor(SHAPES), starts).shape == (1, 3, 8)


def test_module_ignores_padded_positions():
    torch.manual_seed(1)
    layer = MSDeformAttn(d_model=8, n_levels=2, n_heads=2, n_points=4)
    starts, total = level_start(SHAPES)
    query, flat = torch.randn(1, 2, 8), torch.randn(1, total, 8)
    ref_points = torch.rand(1, 2, 2, 2)
    padding = torch.zeros(1, total, dtype=torch.bool)
    padding[0, 7:12] = True
    changed = flat.clone()
    changed[0, 7:12] = 100.0
    a = layer(query, ref_points, flat, torch.tensor(SHAPES), starts, padding)
    b = layer(query, ref_points, changed, torch.tensor(SHAPES), starts, padding)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, layer(query, ref_points, changed, torch.tensor(SHAPES), starts))
