import difflib
import unicodedata

from conftest import FIXTURES, SAMPLES
from ingest.repair import repair_text


def _agreement(gold: str, ours: str) -> float:
    gold_tokens, our_tokens = gold.split(), ours.split()
    matcher = difflib.SequenceMatcher(a=gold_tokens, b=our_tokens, autojunk=False)
    return sum(b.size for b in matcher.get_matching_blocks()) / len(gold_tokens)


def test_seed_003_repair_agrees_with_hand_repaired_copy():
    raw = (SAMPLES / "1257-BHXH-PC.txt").read_text(encoding="utf-8")
    gold = (FIXTURES / "seed003_repaired.txt").read_text(encoding="utf-8")
    assert _agreement(gold, repair_text(raw).text) >= 0.995


def test_split_syllables_digits_and_codes_are_rejoined():
    text = repair_text((SAMPLES / "1257-BHXH-PC.txt").read_text(encoding="utf-8")).text
    assert "V/v thực hiện cải cách hoạt động kiểm tra chuyên ngành" in text
    assert "Nghị quyết số 01/NQ-CP" in text and "Chỉ thị số 30/CT-TTg" in text
    assert "(BHXH)" in text and "Thủ tướng Chính phủ" in text


def test_authors_typos_are_kept():
    text = repair_text((SAMPLES / "1257-BHXH-PC.txt").read_text(encoding="utf-8")).text
    assert "thực hiệu" in text and "một của liên thông" in text


def test_split_header_of_1151_becomes_one_number_line():
    text = repair_text((SAMPLES / "1151-BHXH-TTKT.txt").read_text(encoding="utf-8")).text
    assert "Số: 1151/BHXH-TTKT\n" in text
    assert "\nHà Nội, ngày 04 tháng 5 năm 2022\n" in text
    assert "Để khắc phục" in text


def test_boilerplate_is_stripped_and_counted():
    result = repair_text((SAMPLES / "1251-BHXH-TCCB.txt").read_text(encoding="utf-8"))
    assert "Tải Văn bản" not in result.text
    assert result.stats.boilerplate_lines == 4


def test_items_start_their_own_lines():
    text = repair_text((SAMPLES / "3476-BHXH-TCCB.txt").read_text(encoding="utf-8")).text
    lines = text.split("\n")
    for marker in ("1. ", "2. ", "a) ", "b) ", "c) ", "d) ", "đ) ", "e) ", "3. ", "4. "):
        assert any(line.startswith(marker) for line in lines), marker


def test_offset_map_points_back_to_raw_text():
    raw = (SAMPLES / "1257-BHXH-PC.txt").read_text(encoding="utf-8")
    result = repair_text(raw)
    start = result.text.index("Thủ tướng")
    raw_start = result.offset_map[start]
    raw_end = result.offset_map[start + len("Thủ tướng") - 1] + 1
    assert "".join(raw[raw_start:raw_end].split()) == "Thủtướng"


def test_nfd_input_is_normalised_to_nfc():
    raw = (SAMPLES / "1151-BHXH-TTKT.txt").read_text(encoding="utf-8")
    result = repair_text(unicodedata.normalize("NFD", raw))
    assert unicodedata.is_normalized("NFC", result.text)
    assert "Số: 1151/BHXH-TTKT" in result.text
    assert result.stats.nfc_changes > 0


def test_run_together_words_are_respaced_when_certain():
    result = repair_text("Các đơn vị trựcthuộc BHXH tỉnh báo cáo số liệu BHYTnăm 2024.")
    assert "trực thuộc" in result.text and "BHYT năm" in result.text
    assert result.stats.respaced_words == 2


def test_table_flattened_header_keeps_its_cells():
    raw = ("BẢO HIỂM XÃ HỘI VIỆT NAM | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |\n"
           "Số: 5469/BHXH-BC | Hà Nội, ngày 20 tháng 12 năm 2012 |\n"
           "V/v báo cáo số liệu\nKính gửi: BHXH các tỉnh\n1. Báo cáo trước ngày 15/01/2013.\n")
    text = repair_text(raw).text
    assert "Số: 5469/BHXH-BC | Hà Nội, ngày 20 tháng 12 năm 2012 |" in text


def test_a_bold_heading_after_a_sentence_end_starts_its_own_line():
    # Web text: markdown bold around a section's roman numeral, an item's number after it.
    raw = ("Thủ tướng Chính phủ yêu cầu tập trung hoàn thành ngay một số nhiệm vụ cụ thể như sau:\n"
           "**I. VỀ HOÀN THIỆN THỂ CHẾ**\n"
           "1. Bộ trưởng các Bộ, Thủ trưởng cơ quan ngang bộ\n"
           "Tập trung chỉ đạo hoàn thành sửa đổi, bổ\nsung văn bản quy phạm pháp luật.\n"
           "**2.** Chủ tịch Ủy ban nhân dân các tỉnh báo cáo kết quả.\n")
    lines = repair_text(raw).text.split("\n")
    assert "**I. VỀ HOÀN THIỆN THỂ CHẾ**" in lines
    assert any(line.startswith("1. Bộ trưởng các Bộ") for line in lines)
    assert any(line.startswith("**2.** Chủ tịch") for line in lines)
    assert "Tập trung chỉ đạo hoàn thành sửa đổi, bổ sung văn bản quy phạm pháp luật." in repair_text(raw).text


def test_an_item_marker_alone_on_its_line_opens_its_text_even_a_cang_cu_sentence():
    # "Căn cứ …" usually opens the preamble's legal bases; after a lone "2.6." it is the
    # item's own text, and the item must not be lost into the bullet before it.
    raw = ("2.5.\nTiếp tục rà soát, kiện toàn tổ chức bộ máy quản lý nhà nước về lao động.\n"
           "- Thời gian thực hiện: Thực hiện thường xuyên hằng năm.\n"
           "2.6.\nCăn cứ vào điều kiện thực tế của địa phương, hình thành các cơ chế tham vấn ba bên.\n"
           "- Thời gian thực hiện: Hoàn thành trong quý III/2020.\n")
    lines = repair_text(raw).text.split("\n")
    assert "2.6. Căn cứ vào điều kiện thực tế của địa phương, hình thành các cơ chế tham vấn ba bên." in lines
    assert "2.5. Tiếp tục rà soát, kiện toàn tổ chức bộ máy quản lý nhà nước về lao động." in lines
    # A legal basis after a finished line still starts its own line.
    assert repair_text("QUYẾT ĐỊNH:\nCăn cứ Luật Tổ chức chính quyền địa phương;\n").text.split("\n")[1] \
        .startswith("Căn cứ Luật")
