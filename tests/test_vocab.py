"""The one vocabulary: kinds, numbers, dates, language, item markers."""
from datetime import date

from ingest import vocab


def test_numbers_are_normalised_with_ascii_codes_restored():
    cases = {
        "1869 / BHXH - BT": "1869/BHXH-BT", "797/LDTBXH-BHXH": "797/LĐTBXH-BHXH",
        "3068/BHXH CSXH": "3068/BHXH-CSXH", "252/KH-BCDQG1237": "252/KH-BCĐQG1237",
        "10988/BNV-CQDP": "10988/BNV-CQĐP", "2739/VPCP-DMDN": "2739/VPCP-ĐMDN",
        "08/2022/QD-TTg": "08/2022/QĐ-TTg", "220/CD-TTg": "220/CĐ-TTg",
        "310/2025/ND-CP": "310/2025/NĐ-CP", "11554/VPCP-V.I": "11554/VPCP-V.I",
        "4240/UBND-VX": "4240/UBND-VX", "15/HD-BHXH": "15/HD-BHXH",
    }
    for written, canonical in cases.items():
        assert vocab.normalise_number(written) == canonical


def test_kind_from_code_and_title():
    assert vocab.kind_from_number("252/KH-BCĐQG1237") == "Kế hoạch"
    assert vocab.kind_from_number("3444/BHXH-PT-CST") == "Công văn"
    assert vocab.kind_from_number("220/CĐ-TTg") == "Công điện"
    assert vocab.kind_from_code("TTr") == "Tờ trình" and vocab.kind_en("Chỉ thị") == "Directive"
    assert vocab.kind_from_title("**QUYẾT ĐỊNH**") == "Quyết định"
    assert vocab.kind_from_title("DECREE") == "Nghị định"
    assert vocab.kind_from_title("Quyết định này có hiệu lực") is None


def test_header_number_and_file_name_evidence():
    m = vocab.HEADER_NUMBER_RE.search("---------------Số: 2739/VPCP-ĐMDN V/v quy định")
    assert vocab.normalise_number(m.group("number")) == "2739/VPCP-ĐMDN"
    assert vocab.number_from_filename("08_2022_QD-TTg.txt") == "08/2022/QĐ-TTg"
    assert vocab.number_from_filename("KhongSo_BHXH-YenMy-2016.txt") == "KhongSo/BHXH-YenMy-2016"
    assert vocab.number_from_filename("notes.txt") is None


def test_dates_in_both_languages():
    assert vocab.parse_date_vi("Hà Nội, ngày 28 tháng 3 năm 2022") == date(2022, 3, 28)
    assert vocab.parse_date_vi("trước ngày 20/5/2022") == date(2022, 5, 20)
    assert vocab.parse_date_en("Hanoi, March 17, 2020") == date(2020, 3, 17)
    assert vocab.parse_date_en("17 March 2020") == date(2020, 3, 17)
    assert vocab.parse_date_en("Hanoi, December\n2, 2025") == date(2025, 12, 2)


def test_language_and_markers():
    assert vocab.detect_language("Công văn này yêu cầu các đơn vị thực hiện.") == "vi"
    assert vocab.detect_language("Official Dispatch 3476/BHXH-TCCB, dated 25 October 2023 refers "
                                 "to:\n- Official Telegram 968/CĐ-TTg (16 October 2023) [1]") == "en"
    assert vocab.marker_of("1.1.a) nội dung")[:2] == ("subletter", "1.1.a")
    assert vocab.marker_of("Chương II")[:2] == ("chapter", "II")
    assert vocab.marker_of("Điều 5. Phạm vi")[:2] == ("article", "5")
    assert vocab.is_person_name("Nguyễn Thị Minh") and not vocab.is_person_name("Cổng Thông tin")


def test_a_party_number_with_a_spaced_hyphen_is_read_closed_up():
    from ingest.vocab import PARTY_NUMBER_RE, party_number
    text = "thực hiện Kế hoạch số 119- KH/TU ngày 18 tháng 12 năm 2019 và Chỉ thị số 37-CT/TW"
    assert [party_number(m.group(0)) for m in PARTY_NUMBER_RE.finditer(text)] == ["119-KH/TU", "37-CT/TW"]
