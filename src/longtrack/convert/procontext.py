"""The authors' ProContEXT checkpoint (OSTrack-style keys) -> our :class:`ProContEXT`.

Their keys and ours:

* ``backbone.*`` (timm ViT names: ``patch_embed.proj``, ``blocks.N.attn.qkv``, ``blocks.N.mlp.fc1``,
  ``norm``, ``pos_embed_z``, ``pos_embed_x``, ``pos_embed``, ``cls_token``) -> the same names;
* ``box_head.conv{1..4}_{ctr,size,offset}.{0,1}.*`` (conv, BatchNorm) ->
  ``head.{score,size,offset}.{0..3}.{0,1}.*``; ``box_head.conv5_*`` -> ``head.*.4.*``.

Shapes give the widths, depth, input sizes and head channels; the head count (default
``embed_dim // 64``, ViT-B/L) and the crop factors / elimination schedule (not stored in weights;
default: the paper's) can be overridden.
"""
from __future__ import annotations

import math
import re

from ..errors import LongtrackError
from . import load_mapped, rename_keys
from ..models.procontext import ProContEXT, ProContEXTConfig

__all__ = ["map_key", "infer_config", "convert"]

_BRANCH = {"ctr": "score", "size": "size", "offset": "offset"}
_HEAD_KEY = re.compile(r"box_head\.conv([1-5])_(ctr|size|offset)\.(.+)")
_BACKBONE_KEY = re.compile(
    r"backbone\.(cls_token|pos_embed|pos_embed_z|pos_embed_x|patch_embed\.proj\.(weight|bias)|norm\.(weight|bias)"
    r"|blocks\.\d+\.(norm1|norm2|attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)\.(weight|bias))")


def map_key(key: str) -> str | None:
    """Our name for one of the authors' keys, or None when it has no counterpart."""
    if _BACKBONE_KEY.fullmatch(key):
        return key
    m = _HEAD_KEY.fullmatch(key)
    if m is None:
        return None
    layer, branch, rest = int(m.group(1)), _BRANCH[m.group(2)], m.group(3)
    if layer == 5:  # the final 1x1 conv: plain weight/bias
        return f"head.{branch}.4.{rest}" if rest in ("weight", "bias") else None
    if not re.fullmatch(r"[01]\.(weight|bias|running_mean|running_var|num_batches_tracked)", rest):
        return None
    return f"head.{branch}.{layer - 1}.{rest}"


def _shape(official: dict, key: str) -> tuple[int, ...]:
    if key not in official:
        raise LongtrackError(f"not a ProContEXT/OSTrack checkpoint: key {key!r} is missing")
    return tuple(official[key].shape)


def _grid(tokens: int, what: str) -> int:
    side = math.isqrt(tokens)
    if side * side != tokens:
        raise LongtrackError(f"{what} has {tokens} tokens, not a square grid")
    return side


def infer_config(official: dict, overrides: dict | None = None) -> ProContEXTConfig:
    """The network configuration that the checkpoint's shapes imply (plus ``overrides``)."""
    embed_dim, _, patch, _ = _shape(official, "backbone.patch_embed.proj.weight")
    depth = 1 + max((int(m.group(1)) for k in official
                     if (m := re.match(r"backbone\.blocks\.(\d+)\.", k))), default=-1)
    if depth == 0:
        raise LongtrackError("not a ProContEXT/OSTrack checkpoint: no backbone.blocks.* keys")
    if "backbone.blocks.0.attn.qkv.bias" not in official:
        raise LongtrackError("checkpoint has no qkv bias; longtrack's ProContEXT always uses qkv_bias=True")
    hidden = _shape(official, "backbone.blocks.0.mlp.fc1.weight")[0]
    values = {
        "embed_dim": embed_dim,
        "depth": depth,
        "num_heads": max(1, embed_dim // 64),
        "mlp_ratio": hidden / embed_dim,
        "patch_size": patch,
        "template_size": _grid(_shape(official, "backbone.pos_embed_z")[1], "pos_embed_z") * patch,
        "search_size": _grid(_shape(official, "backbone.pos_embed_x")[1], "pos_embed_x") * patch,
        "pretrain_grid": _grid(_shape(official, "backbone.pos_embed")[1] - 1, "pos_embed without cls"),
        "head_channels": _shape(official, "box_head.conv1_ctr.0.weight")[0],
    }
    values.update(overrides or {})
    return ProContEXTConfig.from_dict(values, source="procontext converter")


def convert(official: dict, overrides: dict | None = None) -> tuple[dict, dict]:
    """Map every key of the authors' state dict onto a freshly built model.

    Returns ``(config as a plain dict, our state dict)``. Raises ``LongtrackError`` naming any key
    that has no counterpart, any shape mismatch, and any of our tensors left unset.
    """
    config = infer_config(official, overrides)
    return config.to_dict(), load_mapped(ProContEXT(config), rename_keys(official, map_key))

