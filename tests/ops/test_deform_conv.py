"""Modulated deformable conv v2 against a literal transcription of modulated_deformable_im2col."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from longtrack.ops import ModulatedDeformConvPack, modulated_deform_conv2d

torch.set_num_threads(1)


def reference_dcn(inp, offset, mask, weight, bias, stride, pad, dil, dg):
    """One output position, channel and tap at a time; differentiable through the tensors."""
    batch, cin, height, width = inp.shape
    cout, _, kh, kw = weight.shape
    taps = kh * kw
    out_h = (height + 2 * pad - (dil * (kh - 1) + 1)) // stride + 1
    out_w = (width + 2 * pad - (dil * (kw - 1) + 1)) // stride + 1
    per_group = cin // dg
    outputs = []
    for b in range(batch):
        columns = []  # rows (c, k), columns (h, w)
        for c in range(cin):
            g = c // per_group
            for i in range(kh):
                for j in range(kw):
                    k = i * kw + j
                    row = []
                    for h in range(out_h):
                        for w in range(out_w):
                            dy = offset[b, g * 2 * taps + 2 * k, h, w]
                            dx = offset[b, g * 2 * taps + 2 * k + 1, h, w]
                            y = h * stride - pad + i * dil + dy
                            x = w * stride - pad + j * dil + dx
                            val = inp.new_zeros(())
                            yv, xv = float(y.detach()), float(x.detach())
                            if -1 < yv < height and -1 < xv < width:
                                yl, xl = math.floor(yv), math.floor(xv)
                                yh, xh = yl + 1, xl + 1
                                ly, lx = y - yl, x - xl
                                hy, hx = 1 - ly, 1 - lx
                                if yl >= 0 and xl >= 0:
                                    val = val + hy * hx * inp[b, c, yl, xl]
                                if yl >= 0 and xh <= width - 1:
                                    val = val + hy * lx * inp[b, c, yl, xh]
                                if yh <= height - 1 and xl >= 0:
                                    val = val + ly * hx * inp[b, c, yh, xl]
                                if yh <= height - 1 and xh <= width - 1:
                                    val = val + ly * lx * inp[b, c, yh, xh]
                            row.append(val * mask[b, g * taps + k, h, w])
                    columns.append(torch.stack(row))
        out = weight.reshape(cout, -1) @ torch.stack(columns)
        if bias is not None:
            out = out + bias[:, None]
        outputs.append(out.view(cout, out_h, out_w))
    return torch.stack(outputs)


CONFIGS = [  # (cin, cout, H, W, k, stride, pad, dil, dg)
    (2, 3, 5, 6, 3, 1, 1, 1, 1),
    (4, 2, 5, 5, 3, 1, 1, 1, 2),
    (2, 2, 7, 6, 3, 2, 1, 1, 1),
    (2, 2, 6, 6, 3, 1, 2, 2, 1),
    (2, 2, 4, 5, 2, 1, 0, 1, 2),
]


def make_inputs(cfg, seed, dtype=torch.float64, scale=1.5):
    cin, cout, height, width, k, stride, pad, dil, dg = cfg
    gen = torch.Generator().manual_seed(seed)
    out_h = (height + 2 * pad - (dil * (k - 1) + 1)) // stride + 1
    out_w = (width + 2 * pad - (dil * (k - 1) + 1)) // stride + 1
    inp = torch.randn(1, cin, height, width, generator=gen, dtype=dtype)
    offset = torch.randn(1, 2 * dg * k * k, out_h, out_w, generator=gen, dtype=dtype) * scale
    mask = torch.rand(1, dg * k * k, out_h, out_w, generator=gen, dtype=dtype)
    weight = torch.randn(cout, cin, k, k, generator=gen, dtype=dtype)
    bias = torch.randn(cout, generator=gen, dtype=dtype)
    return inp, offset, mask, weight, bias


def put_samples_on_the_border(offset, cfg):
    """Move a few samples exactly to y = -1, y = H, x = -1, x = W and y = -0.5."""
    _, _, height, width, k, stride, pad, dil, _ = cfg
    base = lambda pos, tap: pos * stride - pad + tap * dil  # noqa: E731
    for (h, w, i, j, axis, target) in [(0, 0, 0, 0, 0, -1.0), (0, 1, 1, 0, 0, float(height)),
                                       (1, 0, 0, 1, 1, -1.0), (1, 1, 0, 0, 1, float(width)),
                                       (0, 0, 1, 1, 0, -0.5)]:
        k_idx = i * k + j
        pos, tap = (h, i) if axis == 0 else (w, j)
        offset[0, 2 * k_idx + axis, h, w] = target - base(pos, tap)
    return offset


@pytest.mark.parametrize("cfg", CONFIGS)
def test_forward_matches_reference(cfg):
    inp, offset, mask, weight, bias = make_inputs(cfg, seed=sum(cfg))
    offset = put_samples_on_the_border(offset, cfg)
    stride, pad, dil, dg = cfg[5:]
    ours = modulated_deform_conv2d(inp, offset, mask, weight, bias, stride, pad, dil, dg)
    ref = reference_dcn(inp, offset, mask, weight, bias, stride, pad, dil, dg)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("cfg", CONFIGS[1:3])
def test_gradients_match_reference_autograd(cfg):
    stride, pad, dil, dg = cfg[5:]
    ours_in = [t.requires_grad_(True) for t in make_inputs(cfg, seed=5)]
    ref_in = [t.detach().clone().requires_grad_(True) for t in ours_in]
    upstream = torch.randn_like(modulated_deform_conv2d(*[t.detach() for t in ours_in], stride, pad, dil, dg))
    (modulated_deform_conv2d(*ours_in, stride, pad, dil, dg) * upstream).sum().backward()
    (reference_dcn(*ref_in, stride, pad, dil, dg) * upstream).sum().backward()
    for name, a, b in zip(["input", "offset", "mask", "weight", "bias"], ours_in, ref_in):
        torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=1e-10, msg=f"gradient of {name}")


def test_gradcheck():
    cfg = (2, 2, 4, 4, 3, 1, 1, 1, 2)
    inputs = [t.requires_grad_(True) for t in make_inputs(cfg, seed=9, scale=0.7)]
    assert torch.autograd.gradcheck(lambda *a: modulated_deform_conv2d(*a, 1, 1, 1, 2), inputs)


def test_zero_offset_unit_mask_is_a_plain_convolution():
    inp, _, _, weight, bias = make_inputs((3, 4, 8, 9, 3, 2, 1, 2, 1), seed=1)
    out = F.conv2d(inp, weight, bias, stride=2, padding=1, dilation=2)
    offset = torch.zeros(1, 18, *out.shape[2:], dtype=inp.dtype)
    mask = torch.ones(1, 9, *out.shape[2:], dtype=inp.dtype)
    torch.testing.assert_close(modulated_deform_conv2d(inp, offset, mask, weight, bias, 2, 1, 2, 1), out)


def test_pack_keys_initialisation_and_forward():
    layer = ModulatedDeformConvPack(4, 6, 3, stride=1, padding=1, deformable_groups=2).double()
    assert sorted(layer.state_dict()) == ["bias", "conv_offset.bias", "conv_offset.weight", "weight"]
    assert layer.conv_offset.weight.shape == (2 * 3 * 9, 4, 3, 3)
    assert layer.conv_offset.weight.abs().sum() == 0 and layer.bias.abs().sum() == 0
    x = torch.randn(2, 4, 7, 5, dtype=torch.float64)
    # Zero offsets and mask sigmoid(0) = 0.5 at initialisation: half a plain conv, plus bias.
    torch.testing.assert_close(layer(x), 0.5 * F.conv2d(x, layer.weight, None, padding=1) + layer.bias[:, None, None])
    # With a trained-looking conv_offset the layer applies the o1, o2, m split of mmcv.
    torch.nn.init.normal_(layer.conv_offset.weight, std=0.3)
    o1, o2, m = layer.conv_offset(x).chunk(3, dim=1)
    expected = modulated_deform_conv2d(x, torch.cat([o1, o2], 1), m.sigmoid(), layer.weight, layer.bias, 1, 1, 1, 2)
    torch.testing.assert_close(layer(x), expected)


def test_rejects_wrong_offset_shape():
    inp, offset, mask, weight, bias = make_inputs(CONFIGS[0], seed=0)
    with pytest.raises(ValueError, match="offset must be"):
        modulated_deform_conv2d(inp, offset[:, :-2], mask, weight, bias, 1, 1, 1, 1)
