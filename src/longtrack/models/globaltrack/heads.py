"""mmdetection v1's ``RPNHead`` and ``SharedFCBBoxHead`` as GlobalTrack configures them.

Key names are mmdetection's (``rpn_head.rpn_conv|rpn_cls|rpn_reg``,
``bbox_head.shared_fcs.N|fc_cls|fc_reg``).
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["RPNHead", "SharedFCBBoxHead"]


class RPNHead(nn.Module):
    """3x3 conv + ReLU, then 1x1 convs to ``A`` sigmoid objectness logits and ``4A`` deltas.

    ``forward(x [N, C, H, W]) -> (cls [N, A, H, W], reg [N, 4A, H, W])``.
    """

    def __init__(self, in_channels: int, feat_channels: int, num_anchors: int):
        super().__init__()
        self.rpn_conv = nn.Conv2d(in_channels, feat_channels, 3, padding=1)
        self.rpn_cls = nn.Conv2d(feat_channels, num_anchors, 1)
        self.rpn_reg = nn.Conv2d(feat_channels, num_anchors * 4, 1)
        for m in (self.rpn_conv, self.rpn_cls, self.rpn_reg):
            nn.init.normal_(m.weight, 0.0, 0.01)
            nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x = F.relu(self.rpn_conv(x))
        return self.rpn_cls(x), self.rpn_reg(x)


class SharedFCBBoxHead(nn.Module):
    """Flatten ``[K, C, 7, 7]`` -> FC -> ReLU -> FC -> ReLU -> class logits ``[K, num_classes]``
    (softmax; column 0 is background) and class-specific deltas ``[K, 4 * num_classes]``."""

    def __init__(self, in_channels: int, roi_size: int, fc_channels: int, num_classes: int = 2,
                 num_fcs: int = 2):
        super().__init__()
        dims = [in_channels * roi_size * roi_size] + [fc_channels] * num_fcs
        self.shared_fcs = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.fc_cls = nn.Linear(fc_channels, num_classes)
        self.fc_reg = nn.Linear(fc_channels, 4 * num_classes)
        for fc in self.shared_fcs:  # mmdet v1 ConvFCBBoxHead: xavier_uniform, zero bias
            nn.init.xavier_uniform_(fc.weight)
            nn.init.zeros_(fc.bias)
        nn.init.normal_(self.fc_cls.weight, 0.0, 0.01)
        nn.init.normal_(self.fc_reg.weight, 0.0, 0.001)
        nn.init.zeros_(self.fc_cls.bias)
        nn.init.zeros_(self.fc_reg.bias)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x = x.flatten(1)
        for fc in self.shared_fcs:
            x = F.relu(fc(x))
        return self.fc_cls(x), self.fc_reg(x)
