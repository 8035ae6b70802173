"""The one-stream ViT with candidate elimination: shapes, elimination counts and invariants."""
import pytest
import torch

from longtrack.backbones.vit import Attention, VisionTransformerCE, eliminate_candidates

torch.set_num_threads(1)


def small_vit(**kwargs):
    options = dict(embed_dim=32, depth=4, num_heads=2, template_size=48, search_size=96,
                   ce_locations=(1, 2), ce_keep_ratios=(0.7, 0.5), pretrain_grid=4)
    options.update(kwargs)
    torch.manual_seed(0)
    return VisionTransformerCE(**options).eval()


def inputs(batch=2, templates=2, seed=1):
    g = torch.Generator().manual_seed(seed)
    z = [torch.randn(batch, 3, 48, 48, generator=g) for _ in range(templates)]
    return z, torch.randn(batch, 3, 96, 96, generator=g)


def test_tokens_shape_and_elimination_counts():
    vit = small_vit()
    z, x = inputs()
    out = vit(z, x)
    assert out["tokens"].shape == (2, 2 * 9 + 36, 32)
    kept, removed = out["kept_search_indices"], out["removed_search_indices"]
    # ceil(0.7 * 36) = 26, then ceil(0.5 * 26) = 13
    assert [k.shape[1] for k in kept] == [26, 13]
    assert [r.shape[1] for r in removed] == [10, 13]
    for b in range(2):
        # kept and all removed so far partition the 36 search positions
        everything = torch.cat([kept[-1][b], removed[0][b], removed[1][b]])
        assert sorted(everything.tolist()) == list(range(36))
        # eliminated positions are exact zeros, kept ones are not
        search = out["tokens"][b, 18:]
        gone = torch.cat([removed[0][b], removed[1][b]])
        assert torch.all(search[gone] == 0)
        assert torch.all(search[kept[-1][b]].abs().sum(-1) > 0)


def test_batched_equals_single():
    vit = small_vit()
    z, x = inputs(batch=3)
    batched = vit(z, x)
    for b in range(3):
        single = vit([t[b:b + 1] for t in z], x[b:b + 1])
        torch.testing.assert_close(single["tokens"][0], batched["tokens"][b], rtol=1e-5, atol=1e-5)
        for s, k in zip(single["kept_search_indices"], batched["kept_search_indices"]):
            assert torch.equal(s[0], k[b])


def test_keep_ratio_one_equals_a_model_without_elimination():
    vit = small_vit()
    plain = small_vit(ce_locations=(), ce_keep_ratios=())
    plain.load_state_dict(vit.state_dict())
    z, x = inputs()
    out = vit(z, x, keep_ratio=1.0)
    assert out["kept_search_indices"] == []
    torch.testing.assert_close(out["tokens"], plain(z, x)["tokens"], rtol=1e-5, atol=1e-5)


def test_tensor_and_list_templates_agree():
    vit = small_vit()
    z, x = inputs()
    torch.testing.assert_close(vit(torch.stack(z, 1), x)["tokens"], vit(z, x)["tokens"])


def test_eliminate_candidates_hand_checked():
    # 2 template tokens, 4 search tokens, 1 head; row 1 of the templates ranks them 3 > 1 > 0 > 2.
    attn = torch.zeros(1, 1, 6, 6)
    attn[0, 0, 1, 2:] = torch.tensor([0.2, 0.3, 0.1, 0.4])
    attn[0, 0, 0, 2:] = torch.tensor([0.9, 0.0, 0.0, 0.0])  # ignored: not a ranking row
    tokens = torch.arange(6, dtype=torch.float32).view(1, 6, 1)
    index = torch.tensor([[10, 11, 12, 13]])
    new, kept, removed = eliminate_candidates(attn, tokens, 2, 0.5, index, torch.tensor([1]))
    assert kept.tolist() == [[13, 11]] and removed.tolist() == [[10, 12]]
    assert new.view(-1).tolist() == [0, 1, 5, 3]  # templates untouched, then kept in rank order
    # all template rows: mean of both rows -> token 0 (0.55) first
    _, kept_all, _ = eliminate_candidates(attn, tokens, 2, 0.25, index, None)
    assert kept_all.tolist() == [[10]]
    # keeping everything returns the inputs unchanged
    same, same_index, none = eliminate_candidates(attn, tokens, 2, 1.0, index, None)
    assert same is tokens and same_index is index and none is None


def test_fused_attention_equals_explicit_softmax():
    torch.manual_seed(3)
    attn = Attention(32, 4)
    x = torch.randn(2, 20, 32)
    explicit, weights = attn(x, need_weights=True)
    fused, none = attn(x, need_weights=False)
    assert none is None and weights.shape == (2, 4, 20, 20)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 4, 20))
    torch.testing.assert_close(fused, explicit, rtol=1e-5, atol=1e-6)


def test_gradients_reach_every_trainable_parameter():
    vit = small_vit(drop_path_rate=0.1).train()
    z, x = inputs()
    vit(z, x)["tokens"].square().mean().backward()
    trainable = {n for n, p in vit.named_parameters() if p.requires_grad}
    assert trainable and all(vit.get_parameter(n).grad is not None for n in trainable)
    # the pre-training tables are frozen: the forward pass never uses them
    assert {n for n, p in vit.named_parameters() if not p.requires_grad} == {"cls_token", "pos_embed"}


def test_track_pos_embeds_derive_from_the_pretraining_table():
    # a pre-training grid equal to the template grid: bicubic resizing to the same size is the identity
    vit = small_vit(pretrain_grid=3)
    with torch.no_grad():
        vit.pos_embed.normal_()
    vit.derive_track_pos_embeds()
    torch.testing.assert_close(vit.pos_embed_z, vit.pos_embed[:, 1:])
    assert vit.pos_embed_x.shape == (1, 36, 32)


def test_invalid_configuration_is_rejected():
    with pytest.raises(ValueError, match="multiple of patch_size"):
        VisionTransformerCE(embed_dim=32, depth=2, num_heads=2, template_size=50, search_size=96)
    with pytest.raises(ValueError, match="same length"):
        VisionTransformerCE(embed_dim=32, depth=2, num_heads=2, ce_locations=(1,), ce_keep_ratios=())
    with pytest.raises(ValueError, match="divisible"):
        VisionTransformerCE(embed_dim=30, depth=2, num_heads=4)
