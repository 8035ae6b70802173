"""The real VOT toolkit for the tests: vot-toolkit 0.9.0 in its own virtual environment.

It must never share an environment with longtrack (it pulls ``opencv-python``, which fights
``opencv-contrib-python-headless`` over ``cv2``), so it lives in a cached venv, created on first
use from PyPI and reused afterwards: ``$LONGTRACK_VOT_VENV`` or
``$XDG_CACHE_HOME/longtrack/vot-toolkit-0.9.0`` (``~/.cache/...``). A marker file written after a
successful install says the venv is complete; a lock keeps parallel test runs from racing.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

# attributee 0.1.10 breaks ``import vot`` on Python 3.11 (shared/docs/VOT_INTEGRATION.md).
PINS = ("vot-toolkit==0.9.0", "attributee==0.1.9")
_MARKER = ".longtrack-ready"


def venv_dir() -> Path:
    override = os.environ.get("LONGTRACK_VOT_VENV", "").strip()
    if override:
        return Path(override).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "longtrack" / "vot-toolkit-0.9.0"


def _marker_text() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]} " + " ".join(PINS) + "\n"


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        try:
            import fcntl
        except ImportError:  # no advisory locks here: run without one
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _bin(root: Path, name: str) -> Path:
    return root / ("Scripts" if os.name == "nt" else "bin") / name


def ensure_vot_toolkit() -> Path:
    """Return the ``vot`` executable of the cached venv, creating the venv when needed.

    Raises ``RuntimeError`` with pip's output when the install fails.
    """
    root = venv_dir()
    vot = _bin(root, "vot")
    marker = root / _MARKER
    with _locked(root.with_name(root.name + ".lock")):
        if marker.is_file() and marker.read_text() == _marker_text() and vot.is_file():
            return vot
        shutil.rmtree(root, ignore_errors=True)  # a half-made or outdated venv
        venv.EnvBuilder(with_pip=True, clear=True).create(root)
        cmd = [str(_bin(root, "python")), "-m", "pip", "install", "--disable-pip-version-check",
               "--no-input", "-q", *PINS]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0 or not vot.is_file():
            raise RuntimeError(f"installing {' '.join(PINS)} into {root} failed (exit {proc.returncode}):\n"
                               f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        marker.write_text(_marker_text())
    return vot


def toolkit_env(**extra: str) -> dict[str, str]:
    """Environment for running ``vot``: text results, one thread per tracker process."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # longtrack's paths must not leak into the toolkit's interpreter
    env.update({"VOT_RESULTS_BINARY": "0", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env
