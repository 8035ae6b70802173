"""Training samples drawn from videos: template/search pairs, multi-instance pairs and
sequences (1 template + T frames), with the papers' augmentations.

A sample is addressed by ``(epoch, index)`` and drawn with its own RNG seeded by
``(seed, epoch, index)``: the same key gives the same sample in any process, worker or
resumed run. ``len(dataset)`` is the number of samples in an epoch.
"""
from __future__ import annotations

import numpy as np
import torch

from ...errors import LongtrackError
from ..config import DataConfig, ViewConfig
from .augment import flip_boxes, flip_image, jitter_colour, to_grayscale
from .sources import Video, VideoSource, build_sources, combine_sources
from .views import ViewResult, render_view, view_shape

__all__ = ["TrackingSamples", "collate_samples"]

MAX_TRIES = 100  # redraws of a video that cannot give a sample (too few visible frames)


class TrackingSamples(torch.utils.data.Dataset):
    """``dataset[(epoch, index)]`` -> dict of numpy arrays. With ``K = template_frames x
    len(templates)`` template images (frame-major), ``S = search_frames``, ``M = max_instances``:

    * ``template_images`` ``(K, 3, Ht, Wt)`` uint8 RGB, ``template_masks`` ``(K, Ht, Wt)`` bool
      (True on padding), ``template_boxes`` ``(K, 4)`` float32 xywh in template pixels;
    * ``search_images`` ``(S, 3, Hs, Ws)``, ``search_masks`` ``(S, Hs, Ws)``, ``search_boxes``
      ``(S, 4)`` (the target's box; where absent, its last visible box), ``search_present`` ``(S,)``;
    * ``target_id`` int64 identity (unique over all sources); ``frame_indices`` ``(F,)`` int64;
    * with ``instances`` or kind ``multi_instance``: ``template_instance_boxes`` ``(K, M, 4)``,
      ``template_instance_ids`` ``(K, M)``, ``search_instance_boxes`` ``(S, M, 4)``,
      ``search_instance_ids`` ``(S, M)`` (id -1 and box 0 pad; the target comes first). For
      ``multi_instance`` every frame lists the same instances in the same order.
    """

    TARGET_FREE_SAMPLES = False  # a subclass that makes data.negative_fraction's samples sets True

    def __init__(self, cfg: DataConfig, seed: int, sources: list[VideoSource] | None = None):
        """``sources``: your own ``VideoSource``s instead of ``cfg.sources`` (equal weights)."""
        if cfg.negative_fraction > 0 and not self.TARGET_FREE_SAMPLES:
            raise LongtrackError(f"data.negative_fraction {cfg.negative_fraction}: {type(self).__name__} "
                                 "makes no target-free samples (procontext's triplets do)")
        sizes = {view_shape(v) for v in cfg.templates}
        if len(sizes) != 1:
            raise LongtrackError(f"data.templates: all template views need one size, got {sorted(sizes)}")
        if seed < 0:
            raise LongtrackError(f"train.seed must be >= 0, got {seed}")
        self.cfg = cfg
        self.seed = seed
        if sources is None:
            self.sources, self.source_probs, self.num_identities = build_sources(cfg.sources)
        else:
            self.sources, self.source_probs, self.num_identities = combine_sources(sources)

    def __len__(self) -> int:
        return self.cfg.samples_per_epoch

    def __getitem__(self, key) -> dict[str, np.ndarray]:
        epoch, index = (int(k) for k in key)
        rng = np.random.default_rng([self.seed, epoch, index])  # frames and augmentation
        # Which videos: shared by each run of samples_per_video consecutive samples.
        video_rng = np.random.default_rng([self.seed, epoch, index // self.cfg.samples_per_video, 1])
        for _ in range(MAX_TRIES):
            source = self.sources[video_rng.choice(len(self.sources), p=self.source_probs)]
            video = source.video(int(video_rng.integers(len(source))))
            if self.cfg.targets == "instances":  # any object, as often as it is visible
                frames = video.instance_frames.astype(np.float64)
                if frames.sum() > 0:
                    video = video.with_target(int(video_rng.choice(video.instance_ids, p=frames / frames.sum())))
            picked = self._pick_frames(video, rng)
            if picked is not None:
                return self._make_sample(video, *picked, rng)
        raise LongtrackError(f"no {self.cfg.kind} sample found in {MAX_TRIES} videos: the sources' "
                             f"videos have too few visible frames (max_gap {self.cfg.max_gap})")

    # -- frame selection ---------------------------------------------------------------
    def _pick_frames(self, video: Video, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Template frames, search frames, and the instance identities kept (multi_instance)."""
        cfg = self.cfg
        visible = np.flatnonzero(video.target_visible)
        if len(visible) == 0:
            return None
        if cfg.kind == "sequence":
            starts = visible[visible < len(video) - cfg.search_frames]
            if len(starts) == 0:
                return None
            first = int(rng.choice(starts))
            later = np.arange(first + 1, min(len(video), first + cfg.max_gap + 1))
            if len(later) < cfg.search_frames:
                return None
            search = np.sort(rng.choice(later, cfg.search_frames, replace=False))
            templates = np.array([first] * cfg.template_frames)
            return templates, search, np.zeros(0, dtype=np.int64)
        base = int(rng.choice(visible))
        window = visible[np.abs(visible - base) <= cfg.max_gap]
        templates = np.concatenate([[base], rng.choice(window, cfg.template_frames - 1)]).astype(np.int64)
        search = rng.choice(window, cfg.search_frames).astype(np.int64)
        if cfg.kind != "multi_instance":
            return templates, search, np.zeros(0, dtype=np.int64)
        shared = None
        for f in np.unique(np.concatenate([templates, search])):
            ids = set(video.instances(int(f))[1].tolist())
            shared = ids if shared is None else shared & ids
        others = sorted(shared - {video.target_identity})
        chosen = rng.permutation(others)[:cfg.max_instances - 1] if others else np.zeros(0, dtype=np.int64)
        return templates, search, np.concatenate([[video.target_identity], np.sort(chosen)]).astype(np.int64)

    # -- rendering ---------------------------------------------------------------------
    def _make_sample(self, video: Video, templates, search, shared_ids, rng) -> dict[str, np.ndarray]:
        cfg = self.cfg
        gray = rng.random() < cfg.gray_prob
        flip = rng.random() < cfg.flip_prob
        want_instances = cfg.instances or cfg.kind == "multi_instance"
        frames = {int(f): video.frame(int(f)) for f in np.unique(np.concatenate([templates, search]))}

        def render(frame_index: int, view, centre=None) -> tuple[ViewResult, np.ndarray]:
            anchor = _last_visible(video, frame_index)
            result = render_view(frames[frame_index], video.target_boxes[anchor] if centre is None else centre,
                                 view, rng)
            return result, result.map_boxes(video.target_boxes[anchor])

        t_views, t_boxes = zip(*(render(int(f), v) for f in templates for v in cfg.templates))
        s_views, s_boxes = zip(*(render(int(f), *self._search_view(video, int(f), rng)) for f in search))
        t_frames = [int(f) for f in templates for _ in cfg.templates]
        out = {
            "template_images": [], "template_masks": [], "template_boxes": list(t_boxes),
            "search_images": [], "search_masks": [], "search_boxes": list(s_boxes),
            "search_present": np.array([video.target_visible[f] for f in search], dtype=bool),
            "target_id": np.int64(video.target_identity),
            "frame_indices": np.concatenate([templates, search]).astype(np.int64),
        }
        for prefix, views, frame_ids in (("template", t_views, t_frames), ("search", s_views, search)):
            inst_boxes, inst_ids = [], []
            for i, (view, f) in enumerate(zip(views, frame_ids)):
                image, mask = view.image, view.mask
                height, width = mask.shape
                if want_instances:
                    boxes, ids = self._instances(video, int(f), view, shared_ids, width, height)
                if flip:
                    image, mask = flip_image(image), flip_image(mask)
                    out[f"{prefix}_boxes"][i] = flip_boxes(out[f"{prefix}_boxes"][i], width)
                    if want_instances:
                        boxes[ids >= 0] = flip_boxes(boxes[ids >= 0], width)
                if gray:
                    image = to_grayscale(image)
                image = jitter_colour(image, cfg.brightness_jitter, cfg.color_jitter, rng)
                out[f"{prefix}_images"].append(image.transpose(2, 0, 1))
                out[f"{prefix}_masks"].append(mask)
                if want_instances:
                    inst_boxes.append(boxes)
                    inst_ids.append(ids)
            if want_instances:
                out[f"{prefix}_instance_boxes"] = np.stack(inst_boxes).astype(np.float32)
                out[f"{prefix}_instance_ids"] = np.stack(inst_ids)
        for key in ("template_images", "template_masks", "search_images", "search_masks"):
            out[key] = np.ascontiguousarray(np.stack(out[key]))
        for key in ("template_boxes", "search_boxes"):
            out[key] = np.stack(out[key]).astype(np.float32)
        return out

    def _search_view(self, video: Video, frame_index: int, rng) -> tuple[ViewConfig, np.ndarray | None]:
        """The view of search frame ``frame_index`` and the frame box it centres on (None: the
        target's last visible box, jittered by the view). A subclass may centre elsewhere."""
        return self.cfg.search, None

    def _instances(self, video: Video, frame_index: int, view: ViewResult, shared_ids,
                   width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Instance boxes in view pixels, padded to ``max_instances`` (id -1)."""
        m = self.cfg.max_instances
        boxes, ids = video.instances(frame_index)
        mapped = view.map_boxes(boxes) if len(boxes) else np.zeros((0, 4))
        if self.cfg.kind == "multi_instance":
            order = {int(i): k for k, i in enumerate(ids)}
            pick = [order[int(i)] for i in shared_ids]
        else:  # the instances whose centre falls inside the view, target first
            centres = mapped[:, :2] + mapped[:, 2:] / 2
            inside = ((centres >= 0) & (centres < [width, height])).all(axis=1)
            pick = sorted(np.flatnonzero(inside).tolist(), key=lambda k: ids[k] != video.target_identity)[:m]
        out_boxes = np.zeros((m, 4))
        out_ids = np.full(m, -1, dtype=np.int64)
        out_boxes[:len(pick)] = mapped[pick]
        out_ids[:len(pick)] = ids[pick]
        return out_boxes, out_ids


def _last_visible(video: Video, frame_index: int) -> int:
    """The frame itself if the target is visible there, else the latest earlier visible one."""
    visible = np.flatnonzero(video.target_visible[:frame_index + 1])
    return int(visible[-1]) if len(visible) else frame_index


def collate_samples(samples: list[dict]) -> dict[str, torch.Tensor]:
    """Stack samples into a batch: every array gains a leading batch dimension ``B``."""
    return torch.utils.data.default_collate(samples)
