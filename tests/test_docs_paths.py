"""Every repository path that README.md or a page under docs/ cites in code exists.

A path is cited in an inline code span (`like/this.py`) or a code block (fenced or indented).
A word counts as a repository path when it starts with one of the repository's top folders, or
when it ends in .py/.yaml/.md and holds a slash. Globs and placeholders (<name>, *, {a,b}, $VAR)
and upper-case folder names (OUT/, RUN/) are not paths. Package files may be cited relative to
src/ or src/longtrack/ (``trackers/kcf.py``); ``shared/...`` / ``../shared/...`` name the shared
folder beside the repository; another project's file is cited as ``project:path``.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "longtrack"
SHARED = ROOT.parent / "shared"
TOP_FOLDERS = ("src/", "scripts/", "configs/", "tests/", "docs/", "experiments/", "benchmarks/")
FILE_SUFFIXES = (".py", ".yaml", ".md")
PLACEHOLDER = re.compile(r"[<>*{}$:]|\.\.\.|^[A-Z_]+/")
INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def code_texts(markdown: str) -> list[str]:
    """The inline code spans and code-block lines of a markdown page."""
    texts, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.startswith("    ") or line.startswith("\t"):
            texts.append(line)
        else:
            texts.extend(INLINE_CODE.findall(line))
    return texts


def cited_paths(text: str) -> list[str]:
    paths = []
    for word in re.split(r"[\s=\"'(),;|\[\]]+", text):
        word = word.split("::")[0].rstrip(".:,")
        if not word or PLACEHOLDER.search(word) or "://" in word or word.startswith(("~", "/", "-")):
            continue
        if word.startswith("../shared/"):
            word = word[len("../"):]
        if word.startswith(TOP_FOLDERS + ("shared/",)) or ("/" in word and word.endswith(FILE_SUFFIXES)):
            paths.append(word)
    return paths


def exists(path: str) -> bool:
    if path.startswith("shared/"):
        return not SHARED.is_dir() or (SHARED / path[len("shared/"):]).exists()
    return any((base / path).exists() for base in (ROOT, ROOT / "src", PACKAGE))


def missing_paths(page: Path) -> list[str]:
    found = []
    for text in code_texts(page.read_text(encoding="utf-8")):
        found.extend(p for p in cited_paths(text) if not exists(p))
    return sorted(set(found))


def test_scanner_reads_code_spans_and_blocks():
    page = "See `scripts/a.py`, `docs/methods/<name>.md` and `x/*.py`.\n\n    python tests/b.py --out runs/c\n"
    assert [cited_paths(t) for t in code_texts(page)] == [["scripts/a.py"], [], [], ["tests/b.py"]]
    assert cited_paths("trackers/kcf.py evaluation/runner.py::run") == ["trackers/kcf.py", "evaluation/runner.py"]
    assert cited_paths("OUT/config.yaml vot-toolkit:analysis/longterm.py [--out docs/a.md]") == ["docs/a.md"]
    assert not exists("scripts/no_such_script.py")
    assert exists("src/longtrack/boxes.py") and exists("longtrack/boxes.py") and exists("boxes.py")


@pytest.mark.parametrize("page", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_cited_repository_path_exists(page):
    assert missing_paths(page) == [], f"{page.relative_to(ROOT)} cites paths that do not exist"
