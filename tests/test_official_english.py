"""Documents published in an official English version: English answers and English drafts read
their English text, never a Vietnamese quote in its place (real corpus files, real pipeline)."""
import json

import pytest

from service_fixture import REPO, run_cli

CORPUS = REPO.parent / "shared" / "corpus" / "docs"
ENGLISH_VERSIONS = ["4887_BHXH-CNTT.txt", "797_LDTBXH-BHXH.txt", "3068_BHXH-CSXH.txt"]
VIETNAMESE_IN_PLACE = ("No English version of this clause is available", "in Vietnamese:",
                       "no English translation yet")

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present "
                                "(the official English versions are read from there, never copied)")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = tmp_path_factory.mktemp("official-en") / "store"
    run_cli("ingest", *[str(CORPUS / name) for name in ENGLISH_VERSIONS], store=store, timeout=900)
    return store


@pytest.mark.parametrize("number,question", [
    ("4887/BHXH-CNTT", "What does dispatch 4887/BHXH-CNTT ask employers to do?"),
    ("797/LĐTBXH-BHXH", "What does dispatch 797/LĐTBXH-BHXH say about suspending contributions?"),
    ("3068/BHXH-CSXH", "What must provincial social security offices do under 3068/BHXH-CSXH?"),
])
def test_english_answers_and_drafts_of_official_versions_are_english(store, number, question):
    answer = json.loads(run_cli("ask", question, "--json", store=store).stdout)
    assert not answer["refused"] and answer["language"] == "en"
    assert answer["citations"] and all(c["doc"] == number for c in answer["citations"])
    assert not any(marker in answer["answer"] for marker in VIETNAMESE_IN_PLACE), answer["answer"]
    drafted = run_cli("draft", question, "--doc", number, "--lang", "en", "--json", store=store)
    article = json.loads(drafted.stdout)
    assert not article["refused"] and article["citations"]
    assert not any(marker in article["rendered"] for marker in VIETNAMESE_IN_PLACE), article["rendered"]
