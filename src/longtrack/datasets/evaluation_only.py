"""Which dataset roots may never be trained on: the evaluation sets.

A root is evaluation-only when it holds a file named ``EVALUATION_ONLY`` (a user marks their own
test sets this way), or when its ``README.md`` says so in the words this project's evaluation
sets use ("validation only", "never train", "tests only"). ``../shared/data/real-val`` and
``../shared/data/real`` are both marked by their READMEs. The root's parent counts too, so that
one sequence folder of an evaluation set is refused as well. Training sources and the ``lt-real``
world's appearance source call :func:`refuse_for_training` before reading a root.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import LongtrackError

__all__ = ["MARKER_FILE", "evaluation_only_reason", "refuse_for_training"]

MARKER_FILE = "EVALUATION_ONLY"
_README_PHRASES = ("validation only", "never train", "tests only")
_README_BYTES = 4096  # the phrase is in the README's opening paragraphs


def evaluation_only_reason(root: str | Path) -> str | None:
    """Why ``root`` is an evaluation set, or None when it may be trained on."""
    root = Path(root).expanduser().resolve()
    for folder in (root, root.parent):
        if (folder / MARKER_FILE).exists():
            return f"{folder} holds an {MARKER_FILE} file"
        for name in ("README.md", "README.txt", "README"):
            readme = folder / name
            if readme.is_file():
                with open(readme, encoding="utf-8", errors="replace") as fh:
                    head = fh.read(_README_BYTES).lower()
                for phrase in _README_PHRASES:
                    if phrase in head:
                        return f"{readme} says '{phrase}'"
    return None


def refuse_for_training(root: str | Path, what: str) -> None:
    """Raise ``LongtrackError`` when ``root`` is an evaluation set (``what`` names the user)."""
    reason = evaluation_only_reason(root)
    if reason is not None:
        raise LongtrackError(f"{what}: {root} is an evaluation set ({reason}); train on a training root "
                             "such as ../shared/data/real-train, never on validation or test data")
