"""ProContEXT (Lan et al., ICASSP 2023): a one-stream ViT over multi-scale static and dynamic
templates and the search region, with candidate elimination and a centre head.

Token order is ``[static@f_1 | ... | static@f_K | dynamic@f_1 | ... | dynamic@f_K | search]``
(K template factors, paper: 2.0 and 4.0). Elimination ranks search tokens by the attention they
receive from the centre token of every template (OSTrack's ``CTR_POINT``). The model is a pure
function of tensors: the tracker owns crops, templates and windows.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import torch
from torch import nn

from ..backbones.vit import VisionTransformerCE
from ..errors import LongtrackError
from ..typed_config import ConfigSource, parse_dataclass, to_plain
from .center_head import CenterHead, decode_center

__all__ = ["ProContEXTConfig", "ProContEXT", "build_procontext"]


@dataclass(frozen=True)
class ProContEXTConfig:
    """Network and input geometry. Defaults are the paper's (``experiments/procontext/procontext.yaml``)."""

    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    patch_size: int = 16
    template_size: int = 192
    search_size: int = 384
    template_factors: tuple[float, ...] = (2.0, 4.0)  # one static + one dynamic template each
    search_factor: float = 5.0
    ce_locations: tuple[int, ...] = (3, 6, 9)  # 0-based blocks: "before blocks 4, 7, 10"
    ce_keep_ratios: tuple[float, ...] = (0.7, 0.7, 0.7)
    head_channels: int = 256
    drop_path_rate: float = 0.1
    pretrain_grid: int = 14  # 224 / 16: grid of the pre-training positional table
    # "conv" (the paper's ViT patch convolution) or "mobilenetv2" (the small real-video
    # configuration's hybrid ViT: MobileNetV2 to stride 16, then a 1x1 projection; a deviation).
    patch_embed: str = "conv"
    # Training only: start the MobileNetV2 stem from its ImageNet weights (``longtrack pretrained fetch``).
    pretrained_backbone: bool = False
    # Keep the stem's BatchNorm statistics fixed in training mode (the ImageNet ones, for small batches).
    norm_eval: bool = False
    # Training only: fractions of the run where the elimination keep ratio warms from 1.0 down to
    # ce_keep_ratios (authors: CE_START_EPOCH 20, CE_WARM_EPOCH 80 of 300 epochs).
    ce_start: float = 20 / 300
    ce_end: float = 100 / 300
    # Training only: where the loss reads the box, "prediction" (the authors': at the predicted
    # score maximum) or "target" (at the true centre cell); see ProContEXTCriterion.
    regress_at: str = "prediction"
    mean: tuple[float, float, float] = field(default=(0.485, 0.456, 0.406))  # ImageNet, RGB
    std: tuple[float, float, float] = field(default=(0.229, 0.224, 0.225))

    def __post_init__(self):
        for name in ("template_factors", "ce_locations", "ce_keep_ratios", "mean", "std"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if len(self.ce_locations) != len(self.ce_keep_ratios):
            raise LongtrackError("procontext config: ce_locations and ce_keep_ratios differ in length")
        if not self.template_factors:
            raise LongtrackError("procontext config: template_factors must not be empty")
        if len(self.mean) != 3 or len(self.std) != 3:
            raise LongtrackError("procontext config: mean and std need 3 values (R, G, B)")
        if self.regress_at not in ("prediction", "target"):
            raise LongtrackError(f"procontext config: regress_at must be 'prediction' or 'target', got {self.regress_at!r}")
        if self.patch_embed not in ("conv", "mobilenetv2"):
            raise LongtrackError(f"procontext config: patch_embed must be 'conv' or 'mobilenetv2', got {self.patch_embed!r}")
        if self.patch_embed == "mobilenetv2" and self.patch_size != 16:
            raise LongtrackError(f"procontext config: the mobilenetv2 patch embedding has stride 16, got "
                                 f"patch_size {self.patch_size}")
        if (self.pretrained_backbone or self.norm_eval) and self.patch_embed != "mobilenetv2":
            raise LongtrackError("procontext config: pretrained_backbone and norm_eval need patch_embed "
                                 "mobilenetv2; the paper's ViT loads its pre-training through the converter")
        if not 0.0 <= self.ce_start <= self.ce_end <= 1.0:
            raise LongtrackError(f"procontext config: need 0 <= ce_start <= ce_end <= 1, got "
                                 f"{self.ce_start}, {self.ce_end}")

    @property
    def num_templates(self) -> int:
        """Static plus dynamic templates."""
        return 2 * len(self.template_factors)

    @classmethod
    def paper(cls) -> "ProContEXTConfig":
        return cls()

    @classmethod
    def small(cls) -> "ProContEXTConfig":
        """The CPU-sized model of ``configs/procontext-synth.yaml`` (a test keeps the two equal):
        the same architecture at width 128, depth 6, 80/160-pixel crops, no stochastic depth;
        trained from scratch, so elimination starts only once the network localises (ce_start/ce_end)."""
        return cls(embed_dim=128, depth=6, num_heads=4, template_size=80, search_size=160,
                   ce_locations=(2, 3, 4), ce_keep_ratios=(0.7, 0.7, 0.7), head_channels=64,
                   drop_path_rate=0.0, ce_start=0.2, ce_end=0.5, regress_at="target")

    @classmethod
    def real(cls) -> "ProContEXTConfig":
        """The small real-video configuration of ``configs/procontext-real.yaml`` (a test keeps the
        two equal): ``small()``'s transformer behind an ImageNet MobileNetV2 stem (a hybrid ViT),
        at OSTrack-256's 128/256-pixel crops; elimination warms up as the authors' schedule."""
        return dataclasses.replace(cls.small(), patch_embed="mobilenetv2", pretrained_backbone=True,
                                   norm_eval=True, template_size=128, search_size=256,
                                   ce_start=20 / 300, ce_end=100 / 300)

    @classmethod
    def from_dict(cls, values: dict, source: str = "procontext config") -> "ProContEXTConfig":
        """Build from a plain mapping (YAML/weights file); unknown keys and wrong types are errors."""
        if not isinstance(values, dict):
            raise LongtrackError(f"{source}: expected a mapping, got {type(values).__name__}")
        return parse_dataclass(cls, values, ConfigSource(source))

    def to_dict(self) -> dict:
        return to_plain(self)


class ProContEXT(nn.Module):
    """Templates + search crop -> centre-head maps and the decoded box.

    ``forward(templates, search, keep_ratio=None)``:
        templates: ``[B, T, 3, Hz, Wz]`` (or a list of T ``[B, 3, Hz, Wz]``), T = ``num_templates``,
            normalised RGB crops in the order static@factors then dynamic@factors.
        search: ``[B, 3, Hx, Wx]``.
        keep_ratio: overrides every elimination block's keep ratio (training warm-up).
        template_tokens: :meth:`embed_templates` of the same templates, computed before
            (``templates`` is then not read): the tracker's cache between template updates.
    Returns a dict:
        ``score_map [B,1,F,F]``, ``size_map [B,2,F,F]``, ``offset_map [B,2,F,F]`` (F = Hx / 16),
        ``pred_boxes [B,4]`` (cx, cy, w, h) in [0, 1] of the search crop at the raw score maximum,
        ``score [B]`` the raw score-map maximum, ``features [B, T*Lz + Lx, C]`` (eliminated search
        positions zero), ``kept_search_indices`` / ``removed_search_indices``: lists of ``[B, K]``.
    """

    def __init__(self, config: ProContEXTConfig | None = None):
        super().__init__()
        self.config = config = config or ProContEXTConfig()
        self.backbone = VisionTransformerCE(
            embed_dim=config.embed_dim, depth=config.depth, num_heads=config.num_heads,
            mlp_ratio=config.mlp_ratio, patch_size=config.patch_size,
            template_size=config.template_size, search_size=config.search_size,
            ce_locations=config.ce_locations, ce_keep_ratios=config.ce_keep_ratios,
            drop_path_rate=config.drop_path_rate, pretrain_grid=config.pretrain_grid,
            patch_embed=config.patch_embed)
        self.head = CenterHead(config.embed_dim, config.head_channels)
        self._init_head_priors()
        # Ranking rows: the centre token of each template, cell ((G-1)//2, (G-1)//2) of its G x G
        # grid, as OSTrack's CTR_POINT (G = 12 -> (5, 5)).
        grid = self.backbone.template_grid
        centre = (grid - 1) // 2 * grid + (grid - 1) // 2
        rows = [k * grid * grid + centre for k in range(config.num_templates)]
        self.register_buffer("rank_rows", torch.tensor(rows, dtype=torch.long), persistent=False)

    @torch.no_grad()
    def _init_head_priors(self) -> None:
        # Our deviation for training from scratch (a loaded checkpoint overwrites it): the last
        # biases start at the targets' base rates -- score p = 1/F^2 (one positive cell; with 0.5
        # the focal loss begins ~50 and Adam needs thousands of steps just to lower the
        # background), size 1/search_factor of the crop, offset half a cell.
        feat = self.feat_size
        self.head.score[-1].bias.fill_(-math.log(feat * feat - 1.0))
        self.head.size[-1].bias.fill_(-math.log(self.config.search_factor - 1.0))
        self.head.offset[-1].bias.fill_(0.5)

    def train(self, mode: bool = True) -> "ProContEXT":
        """``norm_eval`` keeps the stem's BatchNorm layers in eval mode (running statistics fixed)."""
        super().train(mode)
        if mode and self.config.norm_eval:
            for module in self.backbone.patch_embed.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self

    @property
    def feat_size(self) -> int:
        return self.backbone.search_grid

    def embed_templates(self, templates) -> list[torch.Tensor]:
        """The templates' tokens (``VisionTransformerCE.embed_templates``): pass them back as
        ``forward(..., template_tokens=...)`` to skip the patch embedding while the templates
        stay the same."""
        self._check_count(templates.shape[1] if isinstance(templates, torch.Tensor) else len(templates))
        return self.backbone.embed_templates(templates)

    def _check_count(self, num: int) -> None:
        if num != self.config.num_templates:
            raise ValueError(f"ProContEXT expects {self.config.num_templates} templates, got {num}")

    def forward(self, templates, search: torch.Tensor, keep_ratio: float | None = None,
                template_tokens: list[torch.Tensor] | None = None) -> dict:
        if template_tokens is None:
            self._check_count(templates.shape[1] if isinstance(templates, torch.Tensor) else len(templates))
        else:
            self._check_count(len(template_tokens))
        enc = self.backbone(templates, search, rank_rows=self.rank_rows, keep_ratio=keep_ratio,
                            template_tokens=template_tokens)
        tokens = enc["tokens"]
        feat = self.feat_size
        search_tokens = tokens[:, -feat * feat:]  # token t -> row t // F, column t % F
        feature_map = search_tokens.transpose(1, 2).reshape(tokens.shape[0], -1, feat, feat)
        out = self.head(feature_map)
        out["pred_boxes"], out["score"] = decode_center(out["score_map"], out["size_map"], out["offset_map"])
        out["features"] = tokens
        out["kept_search_indices"] = enc["kept_search_indices"]
        out["removed_search_indices"] = enc["removed_search_indices"]
        return out


def build_procontext(config: ProContEXTConfig | dict | None = None) -> ProContEXT:
    """A ProContEXT network from a config object, a plain mapping, or None (paper size)."""
    if isinstance(config, dict):
        config = ProContEXTConfig.from_dict(config)
    return ProContEXT(config)
