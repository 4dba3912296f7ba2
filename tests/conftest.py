"""Shared paths only; each test builds what it needs from real artefacts.

The four dispatches ship in `samples/directives/` (byte for byte the seeds 000-003), so their
tests always run. Only the third-party LawNet article (seed 004, not redistributable) and the
corpus live in `../shared/`; tests of those skip, and say so, on a clone without it.
"""
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples" / "directives"
DISPATCHES = sorted(SAMPLES.glob("*.txt"))          # 1151, 1251, 1257, 3476
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
LAWNET_ARTICLE = SEEDS / "004_62c413c5712133e7.txt"  # English commentary on 3476 (third party)


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The shared seed folder (the four dispatches plus the LawNet article)."""
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not present (only the third-party LawNet article needs it)")
    return SEEDS


@pytest.fixture(scope="session")
def lawnet_article() -> Path:
    if not LAWNET_ARTICLE.is_file():
        pytest.skip(f"the third-party LawNet article is not present ({LAWNET_ARTICLE})")
    return LAWNET_ARTICLE
