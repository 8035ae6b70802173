"""ResNet: structure, paper-size parameter counts, and mmdetection's freezing semantics."""
import pytest
import torch
from torch import nn

from longtrack.backbones.resnet import ResNet, resnet18, resnet50


def num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_size_parameter_counts():
    counts = {
        "resnet50": num_params(resnet50()),
        "resnet18": num_params(resnet18()),
        "resnet50 conv4 (GTELT)": num_params(resnet50(num_stages=3, out_indices=(2,))),
    }
    print("\nparameters (no fc):", counts)
    # torchvision's resnet50 has 25,557,032 with its 2048x1000 fc, resnet18 11,689,512 with 512x1000
    assert counts["resnet50"] == 23_508_032 == 25_557_032 - (2048 * 1000 + 1000)
    assert counts["resnet18"] == 11_176_512 == 11_689_512 - (512 * 1000 + 1000)
    assert counts["resnet50 conv4 (GTELT)"] == 23_508_032 - num_params(resnet50().layer4)


@pytest.mark.parametrize("depth", [18, 50])
def test_stage_strides_and_channels(depth):
    torch.manual_seed(0)
    net = ResNet(depth, base_channels=8).eval()
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        outs = net(x)
    expansion = 1 if depth == 18 else 4
    assert net.out_channels == [8 * 2**i * expansion for i in range(4)]
    for i, out in enumerate(outs):
        assert out.shape == (2, net.out_channels[i], 64 // 2 ** (i + 2), 96 // 2 ** (i + 2))


def test_conv4_only_output_is_layer3_at_stride_16():
    torch.manual_seed(0)
    full = ResNet(50, base_channels=8).eval()
    conv4 = ResNet(50, base_channels=8, num_stages=3, out_indices=(2,)).eval()
    assert not hasattr(conv4, "layer4")
    missing, unexpected = conv4.load_state_dict(full.state_dict(), strict=False)
    assert not missing and all(k.startswith("layer4.") for k in unexpected)
    x = torch.randn(1, 3, 128, 160)
    with torch.no_grad():
        (c4,) = conv4(x)
        expected = full(x)[2]
    assert c4.shape == (1, 128, 8, 10)
    torch.testing.assert_close(c4, expected)


def test_keys_follow_torchvision_names():
    keys = set(ResNet(50, base_channels=8).state_dict())
    for key in ["conv1.weight", "bn1.running_var", "layer1.0.downsample.0.weight",
                "layer1.0.downsample.1.bias", "layer4.2.conv3.weight", "layer3.5.bn2.num_batches_tracked"]:
        assert key in keys
    # "pytorch" style: the stride of a stage's first bottleneck is in its 3x3 conv
    net = ResNet(50, base_channels=8)
    assert net.layer2[0].conv1.stride == (1, 1) and net.layer2[0].conv2.stride == (2, 2)


def test_frozen_stages_and_norm_eval_follow_mmdetection():
    torch.manual_seed(0)
    net = ResNet(50, base_channels=8, frozen_stages=1, norm_eval=True)
    net.train()
    assert not any(p.requires_grad for p in net.conv1.parameters())
    assert not any(p.requires_grad for p in net.layer1.parameters())
    assert all(p.requires_grad for p in net.layer2.parameters())
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(not bn.training for bn in bns)
    assert net.layer2[0].conv1.training  # only the norms (and frozen stages) are in eval
    before = {k: v.clone() for k, v in net.state_dict().items() if "running" in k}
    out = net(torch.randn(2, 3, 64, 64))
    sum(o.sum() for o in out).backward()
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # statistics untouched
    assert net.conv1.weight.grad is None and net.layer1[0].conv1.weight.grad is None
    assert net.layer2[0].conv2.weight.grad is not None and net.layer2[0].bn2.weight.grad is not None


def test_norm_eval_off_updates_statistics_and_frozen_bn_affine():
    net = ResNet(18, base_channels=8, norm_eval=False).train()
    mean_before = net.layer2[0].bn1.running_mean.clone()
    net(torch.randn(2, 3, 64, 64))
    assert not torch.equal(mean_before, net.layer2[0].bn1.running_mean)

    frozen_bn = ResNet(18, base_channels=8, norm_requires_grad=False)
    bn_params = [p for m in frozen_bn.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()]
    assert bn_params and not any(p.requires_grad for p in bn_params)
    assert frozen_bn.layer1[0].conv1.weight.requires_grad


def test_invalid_configuration_is_rejected():
    with pytest.raises(ValueError, match="depth"):
        ResNet(42)
    with pytest.raises(ValueError, match="out_indices"):
        ResNet(50, num_stages=3, out_indices=(3,))
    with pytest.raises(ValueError, match="frozen_stages"):
        ResNet(50, frozen_stages=5)
