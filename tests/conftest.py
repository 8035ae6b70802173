from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only shared/ folder beside the project root (fixtures, real data, docs)."""
    if not SHARED.is_dir():
        raise FileNotFoundError(f"shared/ not found at {SHARED}: tests need ../shared beside the repo")
    return SHARED
