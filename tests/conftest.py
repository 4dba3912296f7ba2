"""Shared paths only; each test builds what it needs from real artefacts."""
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples" / "directives"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEEDS = REPO.parent / "shared" / "seeds"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not present on this machine")
    return SEEDS
