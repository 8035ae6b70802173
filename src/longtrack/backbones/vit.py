"""One-stream Vision Transformer with candidate elimination (OSTrack's ``VisionTransformerCE``).

Templates and the search region are patch-embedded by the same 16x16 convolution, each gets its own
learned positional table (``pos_embed_z`` for every template, ``pos_embed_x`` for the search
region), and all tokens are encoded jointly by pre-norm transformer blocks. Blocks listed in
``ce_locations`` drop the search tokens that the ranking template tokens attend to least
(candidate elimination, Ye et al. ECCV 2022), between the attention residual and the MLP.

State-dict names are those of timm/OSTrack (``patch_embed.proj``, ``blocks.N.attn.qkv``,
``blocks.N.mlp.fc1``, ``norm``, ``pos_embed_z``...), so the authors' checkpoints map one to one.
The paper ViT-B/16 and a small CPU model are the same class with other widths/depths.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .hybrid_embed import MobileNetV2PatchEmbed

__all__ = ["VisionTransformerCE", "eliminate_candidates"]


class PatchEmbed(nn.Module):
    """Non-overlapping patches -> tokens: ``[B, 3, H, W] -> [B, (H/p)*(W/p), C]`` (row-major)."""

    def __init__(self, patch_size: int, embed_dim: int, in_channels: int = 3):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.proj(images).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    """Multi-head self-attention; returns the post-softmax weights ``[B, h, N, N]`` on request."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"embed_dim {dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, need_weights: bool = False):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        if need_weights:
            attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
            out = attn @ v
        else:  # the fused kernel is faster and computes the same function
            attn = None
            out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(b, n, c)), attn


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()  # exact (erf) GELU, as timm
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class DropPath(nn.Module):
    """Stochastic depth: drops a whole residual branch per sample while training."""

    def __init__(self, drop_prob: float):
        super().__init__()
        self.drop_prob = float(drop_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.drop_prob == 0.0:
            return x
        keep = 1.0 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep


def eliminate_candidates(attn: torch.Tensor, tokens: torch.Tensor, num_template_tokens: int,
                         keep_ratio: float, search_index: torch.Tensor,
                         rank_rows: torch.Tensor | None):
    """Keep the ``ceil(keep_ratio * L_s)`` search tokens most attended by the ranking rows.

    Args:
        attn: ``[B, h, N, N]`` post-softmax attention of the block, ``N = L_t + L_s``.
        tokens: ``[B, N, C]`` tokens (templates first).
        num_template_tokens: ``L_t``; template tokens are never removed.
        keep_ratio: fraction of the current search tokens to keep.
        search_index: ``[B, L_s]`` int64 original (pre-pruning) index of each current search token.
        rank_rows: int64 indices (< ``L_t``) of the template tokens whose attention ranks the
            candidates (mean over those rows, then over heads); None = all template tokens.

    Returns:
        ``(tokens [B, L_t + K, C], kept_index [B, K], removed_index [B, L_s - K] or None)``; kept
        search tokens come in descending-attention order, indices are original positions.
    """
    num_search = attn.shape[-1] - num_template_tokens
    num_keep = math.ceil(keep_ratio * num_search)
    if num_keep == num_search:
        return tokens, search_index, None
    attn_t = attn[:, :, :num_template_tokens, num_template_tokens:]
    if rank_rows is not None:
        attn_t = attn_t[:, :, rank_rows]
    score = attn_t.mean(dim=2).mean(dim=1)  # [B, L_s]
    order = torch.sort(score, dim=1, descending=True).indices  # sort, as the authors (not topk)
    keep_idx, drop_idx = order[:, :num_keep], order[:, num_keep:]
    kept_search = tokens[:, num_template_tokens:].gather(
        1, keep_idx.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]))
    tokens = torch.cat([tokens[:, :num_template_tokens], kept_search], dim=1)
    return tokens, search_index.gather(1, keep_idx), search_index.gather(1, drop_idx)


class Block(nn.Module):
    """Pre-norm transformer block; with ``keep_ratio < 1`` it also eliminates candidates."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, qkv_bias: bool,
                 drop_path: float, keep_ratio: float = 1.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads, qkv_bias)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.keep_ratio = keep_ratio

    def forward(self, x, num_template_tokens, search_index, rank_rows, keep_ratio_override=None):
        # As OSTrack: an override (training warm-up) applies only to blocks that eliminate at all.
        keep = self.keep_ratio if keep_ratio_override is None else keep_ratio_override
        eliminate = self.keep_ratio < 1.0 and keep < 1.0
        attn_out, attn = self.attn(self.norm1(x), need_weights=eliminate)
        x = x + self.drop_path(attn_out)
        removed = None
        if eliminate:
            x, search_index, removed = eliminate_candidates(
                attn, x, num_template_tokens, keep, search_index, rank_rows)
        x = x + self.drop_path(self.mlp(self.norm2(x)))
        return x, search_index, removed


class VisionTransformerCE(nn.Module):
    """ViT over ``[template_1 | ... | template_T | search]`` tokens with candidate elimination.

    Args:
        embed_dim, depth, num_heads, mlp_ratio, qkv_bias: the transformer (ViT-B: 768, 12, 12, 4, True).
        patch_size: patch (= stride) of the embedding, 16.
        template_size, search_size: input side lengths in pixels (multiples of ``patch_size``).
        ce_locations: 0-based indices of the blocks that eliminate candidates.
        ce_keep_ratios: keep ratio of each of those blocks (same length).
        drop_path_rate: stochastic depth, linearly increasing to this value over the blocks.
        patch_embed: ``"conv"`` (the ViT's 16x16 patch convolution) or ``"mobilenetv2"``
            (:class:`MobileNetV2PatchEmbed`, a hybrid ViT; ``patch_size`` must then be 16).
        pretrain_grid: side of the patch grid of the image-classification pre-training (224/16 = 14).
            ``pos_embed`` (that grid plus a class token) and ``cls_token`` are the pre-trained ViT's;
            they are not used in the forward pass (frozen), but a pre-trained checkpoint loads into
            them and :meth:`derive_track_pos_embeds` interpolates them to the template/search grids,
            as the authors initialise ``pos_embed_z`` and ``pos_embed_x``.
    """

    def __init__(self, *, embed_dim: int = 768, depth: int = 12, num_heads: int = 12,
                 mlp_ratio: float = 4.0, qkv_bias: bool = True, patch_size: int = 16,
                 template_size: int = 192, search_size: int = 384,
                 ce_locations: Sequence[int] = (), ce_keep_ratios: Sequence[float] = (),
                 drop_path_rate: float = 0.0, pretrain_grid: int = 14, patch_embed: str = "conv"):
        super().__init__()
        if patch_embed not in ("conv", "mobilenetv2"):
            raise ValueError(f"patch_embed must be 'conv' or 'mobilenetv2', got {patch_embed!r}")
        if patch_embed == "mobilenetv2" and patch_size != 16:
            raise ValueError(f"the mobilenetv2 patch embedding has stride 16, got patch_size {patch_size}")
        for name, size in (("template_size", template_size), ("search_size", search_size)):
            if size % patch_size:
                raise ValueError(f"{name} {size} is not a multiple of patch_size {patch_size}")
        if len(ce_locations) != len(ce_keep_ratios):
            raise ValueError("ce_locations and ce_keep_ratios must have the same length")
        if any(not 0 <= i < depth for i in ce_locations):
            raise ValueError(f"ce_locations {list(ce_locations)} must lie in [0, {depth})")
        self.embed_dim = embed_dim
        self.patch_size = patch_size
        self.template_grid = template_size // patch_size
        self.search_grid = search_size // patch_size
        self.pretrain_grid = pretrain_grid
        self.ce_locations = tuple(int(i) for i in ce_locations)

        self.patch_embed = (MobileNetV2PatchEmbed(embed_dim) if patch_embed == "mobilenetv2"
                            else PatchEmbed(patch_size, embed_dim))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim), requires_grad=False)
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + pretrain_grid ** 2, embed_dim), requires_grad=False)
        self.pos_embed_z = nn.Parameter(torch.zeros(1, self.template_grid ** 2, embed_dim))
        self.pos_embed_x = nn.Parameter(torch.zeros(1, self.search_grid ** 2, embed_dim))
        keep = dict(zip(self.ce_locations, ce_keep_ratios))
        drop_rates = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = nn.ModuleList(
            Block(embed_dim, num_heads, mlp_ratio, qkv_bias, drop_rates[i], keep.get(i, 1.0))
            for i in range(depth))
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self._init_weights()

    def _init_weights(self) -> None:
        # timm's ViT init (trunc-normal 0.02 linears/tables, unit LayerNorm), then OSTrack's
        # derivation of the tracking positional tables from the pre-training one.
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.derive_track_pos_embeds()

    @torch.no_grad()
    def derive_track_pos_embeds(self) -> None:
        """Set ``pos_embed_z``/``pos_embed_x`` by bicubic interpolation of ``pos_embed``'s patch grid
        (call again after loading a pre-trained classification ViT into this module)."""
        grid = self.pos_embed[:, 1:].transpose(1, 2).reshape(1, self.embed_dim, self.pretrain_grid, -1)
        for table, side in ((self.pos_embed_z, self.template_grid), (self.pos_embed_x, self.search_grid)):
            resized = F.interpolate(grid, size=(side, side), mode="bicubic", align_corners=False)
            table.copy_(resized.flatten(2).transpose(1, 2))

    @property
    def tokens_per_template(self) -> int:
        return self.template_grid ** 2

    @property
    def tokens_per_search(self) -> int:
        return self.search_grid ** 2

    def embed_templates(self, templates: Sequence[torch.Tensor] | torch.Tensor) -> list[torch.Tensor]:
        """T templates (``[B, 3, Hz, Wz]`` each, or one ``[B, T, 3, Hz, Wz]``) -> their T
        ``[B, Lz, C]`` tokens with the positional table added: what :meth:`forward` encodes
        first, reusable while the templates stay the same (a tracker between updates)."""
        if isinstance(templates, torch.Tensor):
            templates = templates.unbind(1)
        return [self.patch_embed(t) + self.pos_embed_z for t in templates]

    def forward(self, templates: Sequence[torch.Tensor] | torch.Tensor | None, search: torch.Tensor,
                rank_rows: torch.Tensor | None = None, keep_ratio: float | None = None,
                template_tokens: Sequence[torch.Tensor] | None = None) -> dict:
        """Encode templates and search region jointly.

        Args:
            templates: T tensors ``[B, 3, Hz, Wz]`` (or one ``[B, T, 3, Hz, Wz]``), normalised images.
            search: ``[B, 3, Hx, Wx]``.
            rank_rows: int64 indices into the ``T * Lz`` template tokens whose attention ranks the
                search tokens in elimination blocks (None: all template tokens).
            keep_ratio: overrides every elimination block's keep ratio (training warm-up), or None.
            template_tokens: :meth:`embed_templates` of the templates, computed before (then
                ``templates`` is not read and may be None); the result is the same.

        Returns:
            ``tokens``: ``[B, T*Lz + Lx, C]`` after the final norm, search tokens back in their
            original (row-major) order with eliminated positions exactly zero;
            ``kept_search_indices`` / ``removed_search_indices``: one ``[B, K_i]`` / ``[B, R_i]``
            int64 tensor per block that eliminated (kept ones in descending-attention order).
        """
        z = self.embed_templates(templates) if template_tokens is None else list(template_tokens)
        x = self.patch_embed(search) + self.pos_embed_x
        num_template_tokens = sum(t.shape[1] for t in z)
        tokens = torch.cat(z + [x], dim=1)
        batch, num_search = x.shape[0], x.shape[1]
        search_index = torch.arange(num_search, device=x.device).expand(batch, -1)
        if rank_rows is not None:
            rank_rows = rank_rows.to(x.device)

        kept, removed = [], []
        for block in self.blocks:
            tokens, search_index, removed_i = block(
                tokens, num_template_tokens, search_index, rank_rows, keep_ratio)
            if removed_i is not None:
                kept.append(search_index)
                removed.append(removed_i)
        tokens = self.norm(tokens)

        search_tokens = tokens[:, num_template_tokens:]
        if search_tokens.shape[1] != num_search:  # scatter back; eliminated positions stay zero
            index = search_index.unsqueeze(-1).expand(-1, -1, search_tokens.shape[-1])
            search_tokens = search_tokens.new_zeros(batch, num_search, search_tokens.shape[-1]).scatter(
                1, index, search_tokens)
        tokens = torch.cat([tokens[:, :num_template_tokens], search_tokens], dim=1)
        return {"tokens": tokens, "kept_search_indices": kept, "removed_search_indices": removed}
