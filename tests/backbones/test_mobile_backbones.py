"""MobileNetV2 and EfficientNet-Lite0: key layout, parameter counts, strides, TF "same" padding.

No download here; tests/backbones/test_pretrained.py checks the ImageNet weights.
"""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from longtrack.backbones import FPN, EfficientNetLite0, MobileNetV2
from longtrack.backbones.efficientnet_lite import Conv2dSame


def counts(module: nn.Module) -> tuple[int, int, int]:
    state = module.state_dict()
    return len(state), sum(p.numel() for p in module.parameters()), sum(v.numel() for v in state.values())


def test_state_dict_layout_and_parameter_counts():
    # tensors / trainable parameters / all numbers: the ImageNet files hold 312 and 296 tensors
    # with 2,258,036 and 4,694,073 numbers (shared/docs/METHODS.md)
    assert counts(MobileNetV2()) == (312, 2_223_872, 2_258_036)
    assert counts(EfficientNetLite0()) == (296, 4_652_008, 4_694_073)
    mnv2 = MobileNetV2().state_dict()
    assert {"features.0.0.weight", "features.1.conv.3.weight", "features.2.conv.7.running_var",
            "features.18.0.weight", "features.18.1.num_batches_tracked"} <= set(mnv2)
    assert not any(k.startswith("features.19") for k in mnv2)
    lite = EfficientNetLite0().state_dict()
    assert {"_conv_stem.weight", "_bn0.running_mean", "_blocks.0._depthwise_conv.weight", "_blocks.15._expand_conv.weight",
            "_conv_head.weight", "_bn1.weight", "_fc.weight", "_fc.bias"} <= set(lite)
    assert "_blocks.0._expand_conv.weight" not in lite  # expansion 1: no expand conv
    assert tuple(lite["_blocks.3._depthwise_conv.weight"].shape) == (144, 1, 5, 5)


@pytest.mark.parametrize("cls", [MobileNetV2, EfficientNetLite0])
@pytest.mark.parametrize("size", [(256, 256), (190, 250)])
def test_outputs_at_the_requested_strides(cls, size):
    torch.manual_seed(0)
    net = cls(out_strides=(4, 8, 16, 32)).eval()
    with torch.no_grad():
        outs = net(torch.randn(1, 3, *size))
    assert net.out_strides == (4, 8, 16, 32)
    for out, stride, channels in zip(outs, net.out_strides, net.out_channels, strict=True):
        assert out.shape == (1, channels, -(-size[0] // stride), -(-size[1] // stride))


def test_default_strides_and_channels_feed_an_fpn():
    torch.manual_seed(0)
    for net, channels in ((MobileNetV2(), [32, 96, 1280]), (EfficientNetLite0(), [40, 112, 1280])):
        assert net.out_strides == (8, 16, 32) and net.out_channels == channels
        neck = FPN(net.out_channels, 64, num_outs=3).eval()
        with torch.no_grad():
            levels = neck(net.eval()(torch.randn(1, 3, 128, 128)))
        assert [tuple(p.shape) for p in levels] == [(1, 64, 16, 16), (1, 64, 8, 8), (1, 64, 4, 4)]


def test_truncated_outputs_equal_the_full_network():
    torch.manual_seed(0)
    x = torch.randn(1, 3, 96, 128)
    for cls in (MobileNetV2, EfficientNetLite0):
        torch.manual_seed(1)
        full = cls(out_strides=(8, 16, 32)).eval()
        torch.manual_seed(1)
        only8 = cls(out_strides=(8,)).eval()
        with torch.no_grad():
            a, b = full(x), only8(x)
        assert len(b) == 1 and torch.equal(a[0], b[0])
    with torch.no_grad():
        lite = EfficientNetLite0().eval()
        assert torch.equal(lite(x)[-1], lite.features(x))
        assert lite.classify(x).shape == (1, 1000)
        mnv2 = MobileNetV2().eval()
        assert torch.allclose(mnv2(x)[-1].mean(dim=(2, 3)), mnv2.pooled(x))


def test_residual_blocks_are_where_the_shapes_allow():
    mnv2 = MobileNetV2()
    assert [i for i, f in enumerate(mnv2.features[1:18], 1) if f.residual] == [3, 5, 6, 8, 9, 10, 12, 13, 15, 16]
    lite = EfficientNetLite0()
    assert [i for i, b in enumerate(lite._blocks) if b.skip] == [2, 4, 6, 7, 9, 10, 12, 13, 14]


def test_same_padding_puts_the_extra_pixel_bottom_right():
    torch.manual_seed(0)
    conv = Conv2dSame(2, 3, 3, stride=2)
    for size, pads in ((8, (0, 1, 0, 1)), (9, (1, 1, 1, 1))):  # TF: total = (ceil(n/2)-1)*2 + 3 - n
        x = torch.randn(1, 2, size, size)
        assert torch.equal(conv(x), F.conv2d(F.pad(x, pads), conv.weight, stride=2))
    conv5 = Conv2dSame(2, 3, 5, stride=2)
    x = torch.randn(1, 2, 10, 7)  # rows: total 3 -> (1, 2); columns: total 4 -> (2, 2)
    assert torch.equal(conv5(x), F.conv2d(F.pad(x, (2, 2, 1, 2)), conv5.weight, stride=2))
    sym = EfficientNetLite0(padding="symmetric")
    assert not any(isinstance(m, Conv2dSame) for m in sym.modules())
    assert sum(isinstance(m, Conv2dSame) for m in EfficientNetLite0().modules()) == 5  # stem + 4 stride-2 dw


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="out_strides"):
        MobileNetV2(out_strides=(2,))
    with pytest.raises(ValueError, match="out_strides"):
        EfficientNetLite0(out_strides=())
    with pytest.raises(ValueError, match="padding"):
        EfficientNetLite0(padding="valid")
