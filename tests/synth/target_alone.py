"""Draw only a synthetic sequence's target, its alpha white on black: the frames ground-truth box
tests compare with the boxes (tests/synth)."""
import numpy as np

from longtrack.synth import render as render_module


def _alpha_only(levels):
    out = []
    for level in levels:
        white = level.copy()
        white[:, :, :3] = level[:, :, 3:4]
        out.append(white)
    return out


def target_alone_frames(seq, samples: int):
    """``(frame index, H x W x 3 uint8)`` for about ``samples`` frames where the target is wholly
    visible, with nothing but the target drawn (no appearance drift)."""
    plan, target = seq.plan, seq.plan.objects[0]
    assets = render_module.build_assets(plan)
    assets.sprites[0] = _alpha_only(assets.sprites[0])
    assets.drift_sprites.pop(0, None)
    target.drift_weight = None
    hull = target.appearance.shape.hull()
    clear = np.nonzero(~seq.absent & (seq._visibility[0].visible_fraction == 1.0))[0]
    for i in clear[:: max(len(clear) // samples, 1)]:
        frame = np.zeros((seq.height, seq.width, 3), np.uint8)
        render_module._draw_object(frame, plan, assets, target, int(i), hull, np.zeros((len(seq), 2)))
        yield int(i), frame
