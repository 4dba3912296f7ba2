"""Metadata, clause trees and references of the four real seed dispatches."""
from datetime import date

import pytest

from conftest import SAMPLES
from ingest.parse import label_en, label_vi, normalise_number, parse_document
from ingest.repair import repair_text


def parse(name: str):
    raw = (SAMPLES / name).read_text(encoding="utf-8")
    return parse_document(repair_text(raw), raw, name)


@pytest.fixture(scope="module")
def docs():
    return {n.split("-")[0]: parse(n) for n in
            ("1251-BHXH-TCCB.txt", "3476-BHXH-TCCB.txt", "1151-BHXH-TTKT.txt", "1257-BHXH-PC.txt")}


def test_metadata_of_1251(docs):
    d = docs["1251"]
    assert (d.number, d.kind, d.issued, d.place) == ("1251/BHXH-TCCB", "Công văn", date(2023, 4, 28), "Hà Nội")
    assert d.subject == "tăng cường trách nhiệm trong xử lý công việc"
    assert d.signer.name == "Nguyễn Thế Mạnh" and d.signer.capacity == "TỔNG GIÁM ĐỐC"
    assert d.recipients == ["Các đơn vị trực thuộc Bảo hiểm xã hội Việt Nam",
                            "Bảo hiểm xã hội các tỉnh, thành phố trực thuộc Trung ương"]
    assert d.issuer == "Bảo hiểm xã hội Việt Nam" and d.language == "vi"
    assert "Lưu: VT, TCCB(2)" in d.cc and len(d.cc) == 9


def test_split_header_of_1151_is_parsed(docs):
    d = docs["1151"]
    assert (d.number, d.issued) == ("1151/BHXH-TTKT", date(2022, 5, 4))
    assert d.subject == ("nâng cao chất lượng, hiệu quả công tác tiếp công dân, "
                         "giải quyết khiếu nại, tố cáo")
    assert d.signer.name == "Lê Hùng Sơn"
    assert d.signer.capacity == "KT. TỔNG GIÁM ĐỐC / PHÓ TỔNG GIÁM ĐỐC" and d.signer.authority == "KT."
    assert d.recipients[0] == "Thủ trưởng các đơn vị trực thuộc Bảo hiểm xã hội Việt Nam"


def test_syllable_split_1257_is_parsed(docs):
    d = docs["1257"]
    assert (d.number, d.issued) == ("1257/BHXH-PC", date(2019, 4, 19))
    assert d.subject.startswith("thực hiện cải cách hoạt động kiểm tra chuyên ngành")
    assert d.subject.endswith("theo yêu cầu của Thủ tướng Chính phủ")
    assert d.signer.name == "Nguyễn Thị Minh"
    assert d.recipients[1] == "Bảo hiểm xã hội các tỉnh, thành phố trực thuộc Trung uơng"


def test_headerless_3476_gets_provisional_id_and_warnings(docs):
    d = docs["3476"]
    assert d.provisional and d.number.startswith("draft-")
    assert d.issued is None and d.signer.name == "Nguyễn Thế Mạnh"
    assert any("header lost" in w for w in d.warnings)


def test_clause_tree_of_3476_has_points_a_to_e_with_dd(docs):
    paths = [c.path for c in docs["3476"].clauses]
    assert paths == ["preamble", "1", "2", "2.a", "2.b", "2.c", "2.d", "2.đ", "2.e", "3", "4", "closing", "header"]
    two = docs["3476"].clause("2")
    assert two.children == ["2.a", "2.b", "2.c", "2.d", "2.đ", "2.e"]
    assert docs["3476"].clause("2.đ").parent == "2"
    assert "Tăng cường công tác kiểm tra hoạt động công vụ" in docs["3476"].clause("2.a").text


def test_clause_trees_of_the_web_seeds(docs):
    assert [c.path for c in docs["1251"].clauses] == [
        "preamble", "1", "2", "2.a", "2.b", "2.c", "2.d", "3", "4", "header"]
    assert [c.path for c in docs["1151"].clauses] == [
        "preamble", "1", "2", "3", "4", "5", "6", "7", "closing", "header"]
    assert [c.path for c in docs["1257"].clauses] == [
        "preamble", "1", "2", "2.-1", "2.-2", "2.-3", "2.-4", "3", "4", "5", "5.-1", "5.-2",
        "5.-3", "6", "7", "8", "closing", "header"]


def test_clause_ids_labels_and_spans(docs):
    d = docs["1251"]
    clause = d.clause("2.a")
    assert clause.id == "1251/BHXH-TCCB#2.a"
    assert (clause.label_vi, clause.label_en) == ("khoản 2 điểm a", "clause 2(a)")
    assert d.source.repaired_text[clause.span[0]:clause.span[1]] == clause.text
    raw = d.source.raw_text[clause.raw_span[0]:clause.raw_span[1]]
    assert "".join(raw.split()) == "".join(clause.text.split())
    bullet = docs["1257"].clause("5.-1")
    assert bullet.label_vi == "gạch đầu dòng thứ 1 của khoản 5"
    assert bullet.label_en == "clause 5, first bullet"


def test_actors_and_deadlines(docs):
    assert docs["1251"].clause("3").actors == ["Vụ Tổ chức cán bộ"]
    seven = docs["1151"].clause("7")
    assert "Vụ Thanh tra - Kiểm tra" in seven.actors
    assert [(d.text, d.date) for d in seven.deadlines] == [("trước ngày 20/5/2022", date(2022, 5, 20))]
    assert [d.date for d in docs["1257"].clause("4").deadlines] == [date(2019, 5, 15)]
    assert "Giám đốc BHXH tỉnh" in docs["3476"].clause("2").actors
    assert "Trung tâm Công nghệ thông tin" in docs["1257"].clause("5").actors


def test_references_with_kind_date_and_citing_clause(docs):
    refs = {(r.number, r.citing_clause): r for r in docs["3476"].references}
    assert refs[("968/CĐ-TTg", "preamble")].kind == "Công điện"
    assert refs[("73/2023/NĐ-CP", "2.d")].issued == date(2023, 9, 29)
    assert refs[("2596/QĐ-BHXH", "1")].issued == date(2018, 12, 26)
    assert refs[("1251/BHXH-TCCB", "1")].kind == "Công văn"
    numbers = {r.number for r in docs["1257"].references}
    assert {"01/NQ-CP", "02/NQ-CP", "30/CT-TTg", "320/TTg-KSTT", "01/2018/TT-VPCP",
            "61/2018/NĐ-CP", "4773/KH-BHXH", "110/QĐ-BHXH"} <= numbers
    chi_thi = next(r for r in docs["1257"].references if r.number == "30/CT-TTg")
    assert chi_thi.kind == "Chỉ thị" and chi_thi.issued == date(2010, 10, 30)


def test_number_normalisation():
    assert normalise_number("1869 / BHXH - BT") == "1869/BHXH-BT"
    assert normalise_number("320/TTg - KSTT") == "320/TTg-KSTT"


def test_labels_for_roman_sections_and_plus_bullets():
    assert label_vi("I.2.b") == "mục I khoản 2 điểm b"
    assert label_en("I.2.b") == "section I, clause 2(b)"
    assert label_en("2.a.-1.+2") == "clause 2(a), first bullet, second sub-bullet"
    assert label_vi("p3") == "đoạn 3" and label_en("closing") == "closing paragraph"


def test_document_without_structure_is_indexed_as_paragraphs():
    raw = "Thông tin chung về công tác cải cách.\n\nNội dung thứ hai của văn bản."
    d = parse_document(repair_text(raw), raw, "loose.txt")
    assert [c.path for c in d.clauses] == ["p1", "p2"]
    assert any("no numbered or lettered items" in w for w in d.warnings)


def parse_text_of(raw: str, name: str = "test.txt"):
    return parse_document(repair_text(raw), raw, name)


def test_an_addressee_run_into_the_date_line_is_read():
    raw = ("VĂN PHÒNG CHÍNH PHỦ\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc\n"
           "Số: 27/VPCP-ĐMDN V/v quản trị doanh nghiệp\n"
           "Hà Nội, ngày 05 tháng 04 năm 2019 Kính gửi: Bộ Kế hoạch và Đầu tư. Báo Đấu thầu ngày 26 tháng 3 "
           "năm 2019 đưa tin về quản trị doanh nghiệp.\n"
           "Văn phòng Chính phủ thông báo để Bộ Kế hoạch và Đầu tư biết, thực hiện./.\n")
    d = parse_text_of(raw)
    assert d.number == "27/VPCP-ĐMDN" and d.recipients == ["Bộ Kế hoạch và Đầu tư"]


def test_a_bold_addressee_after_a_site_table_runs_on_into_the_preamble():
    raw = ("Số hiệu:\n\n178/BTC-CTK\n\nLoại văn bản:\n\nCông văn\n\nNgười ký:\n\nNguyễn Thị Bích Ngọc\n\n"
           "Ngày ban hành:\n\n17/11/2025\n\n"
           "**Kính gửi:** Ủy\nban nhân dân các tỉnh, thành phố trực thuộc trung ương\n"
           "Thực hiện Nghị định số 94/2022/NĐ-CP ngày 07/11/2022 của Chính phủ quy định nội dung chỉ tiêu\n"
           "thống kê, Bộ Tài chính đề nghị Ủy ban nhân dân các tỉnh, thành phố trực thuộc trung ương báo cáo\n"
           "số liệu theo đơn vị hành chính cấp tỉnh cũ về Bộ Tài chính.\n")
    d = parse_text_of(raw, "178_BTC-CTK.txt")
    assert d.recipients == ["Ủy ban nhân dân các tỉnh, thành phố trực thuộc trung ương"]
    assert d.clauses[0].text.startswith("Thực hiện Nghị định số 94/2022/NĐ-CP")


def test_a_longer_actor_name_is_not_read_as_the_alias_it_contains():
    from ingest.parse import find_actors
    from service.qa.understand import actors_in
    assert find_actors("Văn phòng Chính phủ thông báo để Bộ Kế hoạch và Đầu tư biết") == ["Văn phòng Chính phủ"]
    assert actors_in("Công văn nào của Văn phòng Chính phủ đôn đốc tiến độ?") == ["Văn phòng Chính phủ"]
    assert actors_in("Văn phòng có trách nhiệm gì?") == ["Văn phòng BHXH Việt Nam"]


def test_the_issuer_named_with_its_document_is_not_who_the_question_is_about():
    from service.qa.understand import understand
    raw = ("VĂN PHÒNG CHÍNH PHỦ\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc\n"
           "Số: 27/VPCP-ĐMDN\nHà Nội, ngày 05 tháng 04 năm 2019\nKính gửi: Bộ Kế hoạch và Đầu tư.\n"
           "Văn phòng Chính phủ thông báo để Bộ Kế hoạch và Đầu tư nghiên cứu, có giải pháp phù hợp./.\n")
    d = parse_text_of(raw)
    assert d.issuer == "Văn phòng Chính phủ"
    query = understand("What is the ministry asked to do in Government Office dispatch 27/VPCP-ĐMDN?",
                       None, [], {d.number: d})
    assert query.numbers == ["27/VPCP-ĐMDN"] and "Văn phòng Chính phủ" not in query.actors


def test_page_breaks_are_layout_and_ocr_roman_headings_keep_their_numbers():
    # A scan's text: the PDF tool's page separators, and the OCR reading "II." as "IL.".
    raw = ("BẢO HIỂM XÃ HỘI TỈNH A\nSố: 12/BHXH-TST\n\nV/v hướng dẫn thu\n\nKính gửi: Các đơn vị\n\n"
           "I. Thu bảo hiểm thất nghiệp:\n- Người lao động đóng 1% tiền lương.\n\n"
           "--- PAGE BREAK ---\n\n"
           "IL. Tiền lương làm căn cứ đóng:\n- Không quá 20 lần mức lương cơ sở.\n\n"
           "--- PAGE BREAK ---\n\n"
           "IIL. Thu bảo hiểm y tế:\n- Mức đóng bằng 4,5% mức lương cơ sở.\n\nGIÁM ĐỐC\nNguyễn Văn A\n")
    repaired = repair_text(raw)
    assert "PAGE BREAK" not in repaired.text
    assert sum(r.kind == "strip_page_furniture" for r in repaired.repairs) == 2
    d = parse_document(repaired, raw, "12-BHXH-TST.txt")
    sections = {c.path: c for c in d.clauses if "." not in c.path}
    assert {"I", "II", "III"} <= set(sections)
    assert sections["II"].text.startswith("IL. Tiền lương")            # the authors' text as written
    assert sections["II"].label_vi == "mục II"
    assert not any("PAGE BREAK" in c.text for c in d.clauses)


def test_a_schedule_after_the_signature_is_an_appendix_with_its_table():
    # Web text, one line per paragraph: "Biểu số 1" right under the signer, then its table.
    raw = ("ỦY BAN NHÂN DÂN TỈNH B\nSố: 15/QĐ-UBND\nB, ngày 02 tháng 3 năm 2021\nQUYẾT ĐỊNH\n"
           "Ban hành mức trợ cấp xã hội\nĐiều 1. Ban hành mức trợ cấp xã hội hằng tháng (theo biểu số 1 đính kèm).\n"
           "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.\nKT. CHỦ TỊCH PHÓ CHỦ TỊCH Trần Văn Bê\n"
           "Biểu số 1 MỨC TRỢ CẤP XÃ HỘI HÀNG THÁNG (Kèm theo Quyết định số 15/QĐ-UBND)\n"
           "| STT | Đối tượng | Mức trợ cấp (đồng/tháng) |\n| --- | --- | --- |\n"
           "| 1 | Người từ 80 tuổi trở lên không có lương hưu | 180.000 |\n")
    repaired = repair_text(raw)
    assert "Trần Văn Bê\nBiểu số 1" in repaired.text            # the schedule is not the signer's line
    assert "(Kèm theo Quyết định số 15/QĐ-UBND)\n| STT |" in repaired.text
    d = parse_document(repaired, raw, "15-QD-UBND.txt")
    appendix = d.clause("appendix1")
    assert appendix.text.startswith("Biểu số 1") and "| 1 | Người từ 80 tuổi" in appendix.text
    assert "180.000" not in d.clause("art2").text


def test_a_telegrams_addressees_are_recipients_not_body_bullets():
    # Web text: the title runs into the sender ("… BỘ XÂY DỰNG điện: - …"), one co-addressee
    # on its own line after "Đồng kính gửi:", and a dash inside an addressee's name.
    raw = ("BỘ XÂY DỰNG\nSố: 97/CĐ-BXD\nHà Nội, ngày 24 tháng 11 năm 2025\n"
           "CÔNG ĐIỆN VỀ VIỆC KHẮC PHỤC SẠT LỞ TẠI KHU VỰC TRUNG BỘ BỘ XÂY DỰNG điện: - Các Cục: "
           "Đường bộ Việt Nam, Kinh tế - Quản lý đầu tư xây dựng; - Ban Quản lý Dự án 86;\n"
           "- Sở Xây dựng các tỉnh: Quảng Ngãi, Gia Lai.\n"
           "Đồng kính gửi:\n"
           "Ủy ban nhân dân các tỉnh: Quảng Ngãi, Gia Lai.\n\n"
           "Triển khai chỉ đạo của Thủ tướng Chính phủ, Bộ Xây dựng yêu cầu các cơ quan, đơn vị:\n"
           "1. Ban Quản lý Dự án 86 bố trí lực lượng khắc phục sạt lở trước ngày 30/11/2025.\n"
           "2. Sở Xây dựng các tỉnh báo cáo kết quả về Bộ Xây dựng.\n"
           "KT. BỘ TRƯỞNG THỨ TRƯỞNG Lê Văn Sáu\n")
    d = parse_document(repair_text(raw), raw, "97-CD-BXD.txt")
    assert d.kind == "Công điện"
    assert d.subject == "VỀ VIỆC KHẮC PHỤC SẠT LỞ TẠI KHU VỰC TRUNG BỘ"
    assert d.recipients == ["Các Cục: Đường bộ Việt Nam, Kinh tế - Quản lý đầu tư xây dựng",
                            "Ban Quản lý Dự án 86", "Sở Xây dựng các tỉnh: Quảng Ngãi, Gia Lai",
                            "Ủy ban nhân dân các tỉnh: Quảng Ngãi, Gia Lai"]
    paths = [c.path for c in d.clauses]
    assert paths[:3] == ["preamble", "1", "2"] and not any(p.startswith("-") for p in paths)
    assert d.clause("preamble").text.startswith("Triển khai chỉ đạo")


def test_an_undashed_line_after_a_bare_addressee_marker_keeps_the_body_that_runs_on():
    raw = ("BỘ XÂY DỰNG\nSố: 98/CĐ-BXD\nHà Nội, ngày 24 tháng 11 năm 2025\nCÔNG ĐIỆN\n"
           "VỀ VIỆC KHẮC PHỤC SẠT LỞ\nKính gửi:\n- Sở Xây dựng tỉnh Gia Lai.\n\nĐồng kính gửi:\n\n"
           "Ủy ban nhân dân tỉnh Gia Lai. Bộ Xây dựng đề nghị Ủy ban nhân dân tỉnh khắc phục sạt lở.\n\n"
           "KT. BỘ TRƯỞNG THỨ TRƯỞNG Lê Văn Sáu\n")
    d = parse_document(repair_text(raw), raw, "98-CD-BXD.txt")
    assert d.recipients == ["Sở Xây dựng tỉnh Gia Lai"]
    assert d.clause("p1").text.endswith("Bộ Xây dựng đề nghị Ủy ban nhân dân tỉnh khắc phục sạt lở.")
