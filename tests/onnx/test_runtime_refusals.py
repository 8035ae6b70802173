"""Every exportable tracker refuses, in one line, an ONNX folder without a manifest, an unknown
runtime and the onnx runtime on another device than the CPU."""
from __future__ import annotations

import pytest

pytest.importorskip("onnxruntime")

import longtrack  # noqa: E402
from longtrack.errors import LongtrackError  # noqa: E402
from longtrack.export import EXPORTABLE  # noqa: E402


@pytest.mark.parametrize("name", sorted(EXPORTABLE))
def test_bad_folders_and_runtimes_are_refused(name, tmp_path):
    with pytest.raises(LongtrackError, match="holds no manifest.json"):
        longtrack.create(name, runtime="onnx", onnx_dir=str(tmp_path))
    with pytest.raises(LongtrackError, match="runtime must be one of"):
        longtrack.create(name, runtime="tensorrt")
    with pytest.raises(LongtrackError, match="runs on the CPU"):
        longtrack.create(name, runtime="onnx", device="cuda")
