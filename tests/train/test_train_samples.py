import cv2
import numpy as np
import pytest
import torch

from longtrack.train.config import DataConfig, SourceConfig, ViewConfig
from longtrack.train.data import StreamBatchSampler, TrackingSamples, collate_samples
from longtrack.train.data.augment import flip_boxes, jitter_box

WIDTH, HEIGHT, FRAMES = 160, 120, 30


class RectangleVideo:
    """Black frames with a white target rectangle (identity 0) and a red one (identity 1);
    the target is absent in frames 10-12."""

    name = "rectangles"

    def __init__(self, shift=0):
        t = np.arange(FRAMES)
        self.target_boxes = np.stack([30 + 2 * t + shift, 40 + t % 7, np.full(FRAMES, 24.0),
                                      np.full(FRAMES, 16.0)], axis=1).astype(np.float64)
        self.other_boxes = self.target_boxes + np.array([60.0, 30.0, 0, 0])
        self.target_visible = np.ones(FRAMES, dtype=bool)
        self.target_visible[10:13] = False
        self.target_identity = 0

    def __len__(self):
        return FRAMES

    def frame(self, index):
        image = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
        for boxes, colour, visible in ((self.other_boxes, (200, 0, 0), True),
                                       (self.target_boxes, (255, 255, 255), self.target_visible[index])):
            if visible:
                x, y, w, h = boxes[index].astype(int)
                image[y:y + h, x:x + w] = colour
        return image

    def instances(self, index):
        boxes = [self.other_boxes[index]]
        ids = [1]
        if self.target_visible[index]:
            boxes.insert(0, self.target_boxes[index])
            ids.insert(0, 0)
        return np.array(boxes), np.array(ids, dtype=np.int64)


class RectangleSource:
    num_identities = 2

    def __len__(self):
        return 1

    def video(self, index):
        return RectangleVideo()


def _data(**overrides):
    base = dict(sources=(SourceConfig("synthetic"),), templates=(ViewConfig(factor=2.0, size=32),),
                search=ViewConfig(factor=4.0, size=64, scale_jitter=0.25, center_jitter=3.0),
                brightness_jitter=0.0, gray_prob=0.0, samples_per_epoch=50, max_gap=15)
    base.update(overrides)
    return DataConfig(**base)


def _clipped(box, width, height):
    x0, y0 = max(box[0], 0), max(box[1], 0)
    x1, y1 = min(box[0] + box[2], width), min(box[1] + box[3], height)
    return np.array([x0, y0, x1 - x0, y1 - y0])


def _bright_box(mask):
    ys, xs = np.nonzero(mask)
    return np.array([xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()], dtype=float)


@pytest.mark.parametrize("flip", [0.0, 1.0])
def test_pair_boxes_match_the_pixels_of_each_crop(flip):
    data = TrackingSamples(_data(flip_prob=flip), seed=3, sources=[RectangleSource()])
    for index in range(10):
        sample = data[(0, index)]
        for kind in ("template", "search"):
            image, box = sample[f"{kind}_images"][0], sample[f"{kind}_boxes"][0]
            expected = _clipped(box, image.shape[2], image.shape[1])
            np.testing.assert_allclose(_bright_box(image[1] > 127), expected, atol=1.5)


def test_same_key_same_sample_other_key_other_sample():
    cfg = _data(flip_prob=0.5, brightness_jitter=0.2, gray_prob=0.3)
    a = TrackingSamples(cfg, seed=1, sources=[RectangleSource()])
    b = TrackingSamples(cfg, seed=1, sources=[RectangleSource()])  # as another process would
    first, again = a[(2, 7)], b[(2, 7)]
    assert first.keys() == again.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    assert not np.array_equal(a[(2, 8)]["search_images"], first["search_images"])
    assert not np.array_equal(a[(3, 7)]["search_images"], first["search_images"])
    other_seed = TrackingSamples(cfg, seed=2, sources=[RectangleSource()])
    assert not np.array_equal(other_seed[(2, 7)]["search_images"], first["search_images"])


def test_dataloader_workers_give_the_in_process_samples():
    data = TrackingSamples(_data(flip_prob=0.5), seed=5, sources=[RectangleSource()])
    sampler = StreamBatchSampler(len(data), global_batch=4)
    loader = torch.utils.data.DataLoader(data, batch_sampler=sampler, collate_fn=collate_samples,
                                         num_workers=2)
    batches = [b for _, b in zip(range(3), loader)]
    for step, batch in enumerate(batches):
        expected = collate_samples([data[k] for k in sampler.keys_for_step(step)])
        torch.testing.assert_close(batch["search_images"], expected["search_images"])
        torch.testing.assert_close(batch["search_boxes"], expected["search_boxes"])


def test_sample_shapes_and_types():
    cfg = _data(templates=(ViewConfig(factor=2.0, size=32), ViewConfig(factor=4.0, size=32)),
                template_frames=2, search_frames=3, instances=True, max_instances=3)
    sample = TrackingSamples(cfg, seed=0, sources=[RectangleSource()])[(0, 0)]
    assert sample["template_images"].shape == (4, 3, 32, 32) and sample["template_images"].dtype == np.uint8
    assert sample["template_masks"].shape == (4, 32, 32) and sample["template_masks"].dtype == bool
    assert sample["search_images"].shape == (3, 3, 64, 64)
    assert sample["search_boxes"].shape == (3, 4) and sample["search_boxes"].dtype == np.float32
    assert sample["search_present"].all()  # pairs use frames where the target is visible
    assert sample["search_instance_boxes"].shape == (3, 3, 4)
    ids = sample["search_instance_ids"]
    assert (ids[:, 0] == 0).all() and (ids[:, 2] == -1).all()  # target first, padding -1
    batch = collate_samples([sample, sample])
    assert batch["search_images"].shape == (2, 3, 3, 64, 64) and batch["target_id"].shape == (2,)


def test_sequence_frames_are_ordered_and_report_absence():
    cfg = _data(kind="sequence", search_frames=5, max_gap=8)
    data = TrackingSamples(cfg, seed=0, sources=[RectangleSource()])
    saw_absent = False
    for index in range(40):
        sample = data[(0, index)]
        frames = sample["frame_indices"]
        template, search = frames[0], frames[1:]
        assert (np.diff(search) > 0).all() and search[0] > template and search[-1] - template <= 8
        expected = ~np.isin(search, [10, 11, 12])
        np.testing.assert_array_equal(sample["search_present"], expected)
        saw_absent |= not expected.all()
    assert saw_absent


def test_multi_instance_full_views_list_the_same_instances_in_every_frame():
    cfg = _data(kind="multi_instance", templates=(ViewConfig(mode="full", size=(80, 80)),),
                search=ViewConfig(mode="full", size=(80, 80)), max_instances=4, flip_prob=0.5)
    data = TrackingSamples(cfg, seed=0, sources=[RectangleSource()])
    for index in range(5):
        sample = data[(0, index)]
        np.testing.assert_array_equal(sample["template_instance_ids"][0], [0, 1, -1, -1])
        np.testing.assert_array_equal(sample["search_instance_ids"][0], [0, 1, -1, -1])
        # full view: 160x120 scaled by 0.5 into 80x80, padding below row 60
        assert sample["search_masks"][0, 60:].all() and not sample["search_masks"][0, :60].any()
        image = sample["search_images"][0].astype(int)
        red = _bright_box((image[0] - image[1]) > 100)
        np.testing.assert_allclose(red, _clipped(sample["search_instance_boxes"][0, 1], 80, 60), atol=1.5)


def test_stream_shards_are_the_single_process_stream():
    one = StreamBatchSampler(samples_per_epoch=7, global_batch=6)
    ranks = [StreamBatchSampler(7, 6, rank=r, world_size=2) for r in range(2)]
    for step in range(5):
        assert ranks[0].keys_for_step(step) + ranks[1].keys_for_step(step) == one.keys_for_step(step)
    assert one.keys_for_step(1) == [(0, 6), (1, 0), (1, 1), (1, 2), (1, 3), (1, 4)]
    resumed = iter(StreamBatchSampler(7, 6, start_step=3))
    assert next(resumed) == one.keys_for_step(3)


def test_jitter_and_flip_helpers():
    rng = np.random.default_rng(0)
    box = np.array([10.0, 20.0, 30.0, 40.0])
    np.testing.assert_array_equal(jitter_box(box, 0, 0, rng), box)
    for _ in range(100):
        j = jitter_box(box, 0.25, 3.0, rng)
        offset = np.abs((j[:2] + j[2:] / 2) - (box[:2] + box[2:] / 2))
        assert (offset <= 1.5 * np.sqrt(j[2] * j[3]) + 1e-9).all()
    np.testing.assert_array_equal(flip_boxes(flip_boxes(box, 100), 100), box)
    np.testing.assert_array_equal(flip_boxes(box, 100), [60.0, 20.0, 30.0, 40.0])


def test_a_dataset_on_disk_is_a_source(tmp_path):
    video = RectangleVideo()
    folder = tmp_path / "rect" / "rect-1"
    (folder / "img").mkdir(parents=True)
    for i in range(FRAMES):
        cv2.imwrite(str(folder / "img" / f"{i + 1:08d}.jpg"), video.frame(i)[:, :, ::-1])
    boxes = np.where(video.target_visible[:, None], video.target_boxes, 0)
    np.savetxt(folder / "groundtruth.txt", boxes, fmt="%d", delimiter=",")
    (folder / "full_occlusion.txt").write_text(",".join("0" if v else "1" for v in video.target_visible))
    (folder / "out_of_view.txt").write_text(",".join("0" * FRAMES))
    data = TrackingSamples(_data(sources=(SourceConfig("lasot", root=str(tmp_path), split="all"),)), seed=0)
    assert data.num_identities == 1
    for index in range(5):
        sample = data[(0, index)]
        assert not np.isin(sample["frame_indices"], [10, 11, 12]).any()  # absent frames are not drawn
        image, box = sample["search_images"][0], sample["search_boxes"][0]
        np.testing.assert_allclose(_bright_box(image[1] > 127), _clipped(box, 64, 64), atol=1.5)


def test_synthetic_multi_instance_pairs_carry_every_shared_instance():
    full = ViewConfig(mode="full", size=(128, 96))
    source = SourceConfig("synthetic", frame_size=(128, 96), num_sequences=3)
    cfg = _data(kind="multi_instance", sources=(source,), templates=(full,), search=full, samples_per_video=2)
    data = TrackingSamples(cfg, seed=0)
    a, b, c = data[(0, 0)], data[(0, 1)], data[(0, 2)]
    for sample in (a, b, c):
        ids = sample["search_instance_ids"][0]
        np.testing.assert_array_equal(sample["template_instance_ids"][0], ids)
        assert ids[0] == sample["target_id"] and (ids[ids >= 0] // 64 == ids[0] // 64).all()
        boxes = sample["search_instance_boxes"][0][ids >= 0]
        assert (boxes[:, 2:] > 0).all() and (boxes[:, :2] + boxes[:, 2:] <= [128.5, 96.5]).all()
        np.testing.assert_allclose(boxes[0], sample["search_boxes"][0], atol=1e-4)
    assert a["target_id"] == b["target_id"]  # samples_per_video=2: samples 0 and 1 share a video
    assert data.num_identities == 3 * 64


def test_any_instance_can_be_the_target():
    crop = ViewConfig(factor=3.0, size=64)
    source = SourceConfig("synthetic", frame_size=(128, 96), num_sequences=2)
    own = TrackingSamples(_data(sources=(source,), templates=(crop,), search=crop, instances=True), seed=0)
    data = TrackingSamples(_data(sources=(source,), templates=(crop,), search=crop, instances=True,
                                 targets="instances"), seed=0)
    video = data.sources[0].video(0)
    assert video.target_identity in video.instance_ids and len(video.instance_ids) > 1
    other = int(next(i for i in video.instance_ids if i != video.target_identity))
    moved = video.with_target(other)
    assert moved.target_identity == other and moved.instances(int(np.argmax(moved.target_visible)))[1][0] == other
    np.testing.assert_array_equal(moved.instance_ids, video.instance_ids)
    targets = set()
    for index in range(24):
        sample = data[(0, index)]
        ids = sample["search_instance_ids"][0]
        assert ids[0] == sample["target_id"]  # the drawn object is the sample's target ...
        np.testing.assert_allclose(sample["search_instance_boxes"][0][0], sample["search_boxes"][0], atol=1e-4)
        targets.add(int(sample["target_id"]))
    assert len(targets) > 2  # ... and not always the video's own
    assert {int(own[(0, i)]["target_id"]) for i in range(24)} <= {0, 64}
