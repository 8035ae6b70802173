"""FPN: paper-size parameter counts and mmdetection's top-down / extra-level semantics."""
import pytest
import torch
import torch.nn.functional as F

from longtrack.backbones.fpn import FPN


def num_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_size_parameter_counts():
    globaltrack = num_params(FPN([256, 512, 1024, 2048], 256, num_outs=5))
    dmtrack = num_params(FPN([128, 256, 512], 256, num_outs=3))
    print(f"\nFPN parameters: GlobalTrack {globaltrack:,}, DMTrack {dmtrack:,}")
    assert globaltrack == 3_344_384  # shared/docs/METHODS.md, GlobalTrack "neck"
    assert dmtrack == 2_000_384  # shared/docs/METHODS.md, DMTrack "neck"


def pyramid(channels, batch=2, size=(32, 48)):
    h, w = size
    return [torch.randn(batch, c, h // 2**i, w // 2**i) for i, c in enumerate(channels)]


def test_forward_matches_a_direct_transcription_of_the_top_down_path():
    torch.manual_seed(0)
    fpn = FPN([4, 8, 16], 6, num_outs=4)
    for p in fpn.parameters():  # xavier init leaves biases at 0; give them values to check
        p.data.normal_()
    inputs = pyramid([4, 8, 16])
    lat = [F.conv2d(x, c.conv.weight, c.conv.bias) for x, c in zip(inputs, fpn.lateral_convs)]
    p5 = lat[2]
    p4 = lat[1] + p5.repeat_interleave(2, 2).repeat_interleave(2, 3)
    p3 = lat[0] + p4.repeat_interleave(2, 2).repeat_interleave(2, 3)
    expected = [F.conv2d(p, c.conv.weight, c.conv.bias, padding=1) for p, c in zip([p3, p4, p5], fpn.fpn_convs)]
    expected.append(expected[-1][:, :, ::2, ::2])  # P6: max-pool with kernel 1, stride 2
    with torch.no_grad():
        outs = fpn(inputs)
    assert len(outs) == 4
    for got, want in zip(outs, expected):
        torch.testing.assert_close(got, want)


def test_odd_sizes_use_nearest_to_the_finer_size():
    fpn = FPN([4, 8], 6, num_outs=3)
    inputs = [torch.randn(1, 4, 15, 9), torch.randn(1, 8, 8, 5)]
    outs = fpn(inputs)
    assert [o.shape[2:] for o in outs] == [(15, 9), (8, 5), (4, 3)]


def test_start_level_skips_the_finest_inputs():
    fpn = FPN([4, 8, 16], 6, num_outs=2, start_level=1)
    assert len(fpn.lateral_convs) == 2 and fpn.lateral_convs[0].conv.in_channels == 8
    outs = fpn(pyramid([4, 8, 16], size=(32, 32)))
    assert [o.shape for o in outs] == [(2, 6, 16, 16), (2, 6, 8, 8)]


@pytest.mark.parametrize("source", ["on_input", "on_lateral", "on_output"])
def test_extra_convs(source):
    torch.manual_seed(0)
    fpn = FPN([4, 8, 16], 6, num_outs=5, add_extra_convs=source, relu_before_extra_convs=True)
    assert len(fpn.fpn_convs) == 5
    assert fpn.fpn_convs[3].conv.in_channels == (16 if source == "on_input" else 6)
    assert fpn.fpn_convs[3].conv.stride == (2, 2)
    inputs = pyramid([4, 8, 16], size=(64, 64))
    with torch.no_grad():
        outs = fpn(inputs)
        laterals = [c(x) for c, x in zip(fpn.lateral_convs, inputs)]
    assert [o.shape[-1] for o in outs] == [64, 32, 16, 8, 4]
    src = {"on_input": inputs[2], "on_lateral": laterals[2], "on_output": outs[2]}[source]
    with torch.no_grad():
        torch.testing.assert_close(outs[3], fpn.fpn_convs[3](src))
        torch.testing.assert_close(outs[4], fpn.fpn_convs[4](F.relu(outs[3])))


def test_bad_input_is_rejected():
    fpn = FPN([4, 8], 6, num_outs=2)
    with pytest.raises(ValueError, match="expects 2"):
        fpn([torch.randn(1, 4, 8, 8)])
    with pytest.raises(ValueError, match="num_outs"):
        FPN([4, 8, 16], 6, num_outs=2)
    with pytest.raises(ValueError, match="add_extra_convs"):
        FPN([4, 8], 6, num_outs=3, add_extra_convs="on_top")
