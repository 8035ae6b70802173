"""DLA-34 with deformable IDA-up: structure, paper-size counts, gradients, bilinear up-sampling."""
import pytest
import torch

from longtrack.backbones.dla import DLA34_CHANNELS, IDAUp, bilinear_upsample_kernel, dla34

SMALL = [4, 8, 16, 32, 64, 128]


def num_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_size_parameter_count_matches_dmtrack_backbone():
    net = dla34()
    # The authors' DLA also builds a final IDAUp(128, [128, 256, 512], [1, 2, 4]) that its forward
    # never calls; METHODS.md's "backbone 19,750,078" counts it. We do not build it.
    unused_ida_up = num_params(IDAUp(128, [128, 256, 512], [1, 2, 4]))
    counts = {"base": num_params(net.base), "dla_up": num_params(net.dla_up), "unused ida_up": unused_ida_up}
    print(f"\nDLA-34 parameters: {counts}; ours {num_params(net):,}; with the unused ida_up "
          f"{num_params(net) + unused_ida_up:,}")
    assert num_params(net) == counts["base"] + counts["dla_up"]
    assert num_params(net) + unused_ida_up == 19_750_078
    assert counts["base"] == 15_270_832  # of which 41,728 in the level3/4 projects that never reach the output
    assert sum(num_params(getattr(net.base, f"level{i}").project) for i in (3, 4)) == 41_728


def test_outputs_at_strides_8_16_32():
    torch.manual_seed(0)
    net = dla34(SMALL).eval()
    assert net.out_channels == [32, 64, 128]
    with torch.no_grad():
        outs = net(torch.randn(2, 3, 96, 128))
    assert [tuple(o.shape) for o in outs] == [(2, 32, 12, 16), (2, 64, 6, 8), (2, 128, 3, 4)]


def test_dla_up_order_coarsest_output_is_the_raw_level5():
    torch.manual_seed(0)
    net = dla34(SMALL).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        levels = net.base(x)
        outs = net(x)
    torch.testing.assert_close(outs[2], levels[5])
    assert not torch.allclose(outs[1], levels[4])  # the stride-16 output is aggregated


def test_every_trainable_parameter_gets_a_gradient():
    """DDP without find_unused_parameters needs this; the dead level3/4 projects are frozen."""
    torch.manual_seed(0)
    net = dla34(SMALL).train()
    for p in net.parameters():  # DCN offsets start at 0; move them so all paths are exercised
        if p.requires_grad:
            p.data.add_(0.01 * torch.randn_like(p))
    sum(o.square().mean() for o in net(torch.randn(2, 3, 64, 64))).backward()
    missing = [n for n, p in net.named_parameters() if p.requires_grad and p.grad is None]
    frozen = [n for n, p in net.named_parameters() if not p.requires_grad]
    assert missing == []
    assert sorted({n.rsplit(".", 2)[0] for n in frozen}) == ["base.level3.project", "base.level4.project"]


def test_bilinear_up_sampling_initialisation():
    kernel = bilinear_upsample_kernel(4)
    torch.testing.assert_close(kernel[0], torch.tensor([0.0625, 0.1875, 0.1875, 0.0625]))
    ida = IDAUp(3, [3, 5], [1, 2])
    up = ida.up_1
    assert up.weight.shape == (3, 1, 4, 4) and up.groups == 3 and up.stride == (2, 2)
    with torch.no_grad():  # a constant map stays constant away from the border, size doubles
        out = up(torch.full((1, 3, 5, 6), 2.0))
    assert out.shape == (1, 3, 10, 12)
    torch.testing.assert_close(out[..., 1:-1, 1:-1], torch.full((1, 3, 8, 10), 2.0))
    with torch.no_grad():  # a ramp along x is interpolated linearly
        ramp = up(torch.arange(6.0).expand(1, 3, 5, 6))[0, 0, 3, 1:-1]
    torch.testing.assert_close(ramp.diff(), torch.full((9,), 0.5))


def test_channel_list_is_validated():
    with pytest.raises(ValueError, match="6"):
        dla34(DLA34_CHANNELS[:5])
    with pytest.raises(ValueError, match="down_ratio"):
        dla34(SMALL, down_ratio=3)
