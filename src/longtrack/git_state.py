"""The git commit of the longtrack checkout this code runs from, for provenance records.

The package is installed editable from its repository, so git is asked from the package
folder; an installed copy outside a repository (or no git) gives None.
"""
from __future__ import annotations

import subprocess
from pathlib import Path


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def git_commit() -> str | None:
    """The full hash of HEAD."""
    commit = (_git("rev-parse", "HEAD") or "").strip()
    return commit if len(commit) == 40 else None


def git_state(exclude: tuple = ()) -> str | None:
    """HEAD's short hash, with ``+dirty`` when tracked files differ from it (untracked files
    do not count: results and logs live in ignored folders). ``exclude``: paths whose changes
    do not count, e.g. the files a command is about to regenerate."""
    commit = git_commit()
    top = (_git("rev-parse", "--show-toplevel") or "").strip()
    if commit is None or not top:
        return None
    skip = []
    for path in exclude:
        try:
            skip.append(f":(top,exclude){Path(path).resolve().relative_to(Path(top).resolve()).as_posix()}")
        except ValueError:  # outside the repository: cannot make it dirty
            continue
    status = _git("status", "--porcelain", "--untracked-files=no", "--", ":(top)", *skip)
    return commit[:7] + ("+dirty" if status is None or status.strip() else "")
