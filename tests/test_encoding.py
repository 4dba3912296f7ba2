"""Reading uploaded bytes as Vietnamese text: encodings, legacy fonts and rejected uploads."""
from __future__ import annotations

import codecs
import random
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from conftest import DISPATCHES, LAWNET_ARTICLE, SAMPLES
from ingest.encoding import (
    UndecodableInput,
    convert_legacy,
    decode_bytes,
    detect_legacy_font_encoding,
    encode_legacy,
)

ENGLISH_ARTICLE = LAWNET_ARTICLE
SEED_FILES = DISPATCHES + [ENGLISH_ARTICLE] * ENGLISH_ARTICLE.is_file()
VIETNAMESE_SEED_FILES = [path for path in SEED_FILES if path != ENGLISH_ARTICLE]

TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # none ` ' ? ~ .
# The 67 lowercase letters outside ASCII: each vowel with each tone, then đ.
VIETNAMESE_LETTERS = "".join(
    unicodedata.normalize("NFC", base + tone)
    for base in "aăâeêioôơuưy" for tone in TONES if base + tone not in "aeiouy"
) + "đ"
VIETNAMESE_CAPITALS = VIETNAMESE_LETTERS.upper()
TCVN3_CAPITAL_BASES = "ĂÂĐÊÔƠƯ"

# The same letters in each legacy encoding, read as Windows-1252, written out from the
# standards so the tables are checked against something other than themselves.
TCVN3_LETTERS = "µ¸¶·¹¨»¾¼½Æ©ÇÊÈÉËÌÐÎÏÑªÒÕÓÔÖ×ÝØÜÞßãáâä«åèæçé¬êíëìîïóñòô\xadõøö÷ùúýûüþ®"
TCVN3_CAPITAL_BASE_CODES = "¡¢§£¤¥¦"
VNI_LETTERS = (
    "aø aù aû aõ aï aê aè aé aú aü aë aâ aà aá aå aã aä eø eù eû eõ eï eâ eà eá eå eã eä "
    "ì í æ ó ò oø où oû oõ oï oâ oà oá oå oã oä ô ôø ôù ôû ôõ ôï uø uù uû uõ uï "
    "ö öø öù öû öõ öï yø yù yû yõ î ñ"
).split()


def seed_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def directive_1251() -> str:
    """Dispatch 1251/BHXH-TCCB as received, Unicode."""
    return seed_text(SAMPLES / "1251-BHXH-TCCB.txt")


@pytest.fixture(scope="module")
def opening_of_1251(directive_1251) -> str:
    """The header block and opening paragraphs, with its all-capitals lines."""
    return "\n".join(directive_1251.splitlines()[:24])


def to_cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: base letter, then a combining tone mark where needed."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", char)
        tone = "".join(c for c in decomposed if c in "\u0300\u0301\u0303\u0309\u0323")
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in tone))
        out += (base + tone).encode("cp1258")
    return bytes(out)


def rejection(data: bytes, name: str = "upload.txt") -> str:
    with pytest.raises(UndecodableInput) as caught:
        decode_bytes(data, name)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{name}: ")
    return message


def test_the_four_dispatches_ship_in_samples():
    assert [p.name for p in DISPATCHES] == [
        "1151-BHXH-TTKT.txt", "1251-BHXH-TCCB.txt", "1257-BHXH-PC.txt", "3476-BHXH-TCCB.txt"]


# --- real Unicode text comes back as it is -------------------------------------------------

@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_every_seed_decodes_unchanged(path):
    raw = path.read_bytes()
    decoded = decode_bytes(raw, path.name)
    assert decoded.text == unicodedata.normalize("NFC", raw.decode("utf-8"))
    assert decoded.encoding == "utf-8"
    assert decoded.converted_from is None


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_unicode_seed_is_not_mistaken_for_legacy_font_text(path):
    assert detect_legacy_font_encoding(seed_text(path)) is None


def test_english_with_foreign_accents_is_not_mistaken_for_legacy_font_text(lawnet_article):
    text = seed_text(ENGLISH_ARTICLE) + "\nThe café menu: crème brûlée, naïve résumé, señor Müller.\n"
    assert detect_legacy_font_encoding(text) is None
    assert decode_bytes(text.encode("utf-8")).text == text


def test_decomposed_unicode_is_returned_as_nfc(directive_1251):
    decoded = decode_bytes(unicodedata.normalize("NFD", directive_1251).encode("utf-8"))
    assert decoded.text == directive_1251
    assert decoded.converted_from is None


def test_utf8_with_bom_decodes_without_the_bom(directive_1251):
    text = directive_1251
    decoded = decode_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    assert decoded.text == text
    assert decoded.encoding == "utf-8-sig"


@pytest.mark.parametrize("bom, codec", [
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
])
def test_utf16_with_bom_decodes(bom, codec, directive_1251):
    text = directive_1251
    decoded = decode_bytes(bom + text.encode(codec))
    assert decoded.text == text
    assert decoded.encoding == "utf-16"


def test_cp1258_bytes_decode_to_precomposed_unicode(directive_1251):
    text = directive_1251
    data = to_cp1258(text)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    decoded = decode_bytes(data)
    assert decoded.text == text
    assert decoded.encoding == "cp1258"
    assert decoded.converted_from is None


# --- TCVN3 and VNI font text is converted --------------------------------------------------

def test_tcvn3_sample_sentence_converts():
    mojibake = "Céng hoµ x· héi chñ nghÜa ViÖt Nam"
    assert detect_legacy_font_encoding(mojibake) == "TCVN3"
    assert convert_legacy(mojibake, "TCVN3") == "Cộng hoà xã hội chủ nghĩa Việt Nam"


def test_vni_sample_sentence_converts():
    mojibake = "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam"
    assert detect_legacy_font_encoding(mojibake) == "VNI"
    assert convert_legacy(mojibake, "VNI") == "Cộng hòa xã hội chủ nghĩa Việt Nam"


def test_tcvn3_table_matches_tcvn_5712_vn3():
    assert encode_legacy(VIETNAMESE_LETTERS, "TCVN3") == TCVN3_LETTERS
    assert encode_legacy(TCVN3_CAPITAL_BASES, "TCVN3") == TCVN3_CAPITAL_BASE_CODES
    assert convert_legacy(TCVN3_LETTERS, "TCVN3") == VIETNAMESE_LETTERS


def test_vni_table_matches_vni_windows():
    assert [encode_legacy(letter, "VNI") for letter in VIETNAMESE_LETTERS] == VNI_LETTERS
    assert [encode_legacy(letter, "VNI") for letter in VIETNAMESE_CAPITALS] == [
        legacy.upper() for legacy in VNI_LETTERS
    ]


def test_tcvn3_table_agrees_with_glibc_tcvn5712_codec():
    iconv = shutil.which("iconv")
    probe = iconv and subprocess.run([iconv, "-t", "TCVN5712-1"], input=b"a", capture_output=True)
    if not probe or probe.returncode != 0:
        pytest.skip("iconv with TCVN5712-1 is not available here")
    for letter in VIETNAMESE_LETTERS + TCVN3_CAPITAL_BASES:
        glibc = subprocess.run([iconv, "-f", "UTF-8", "-t", "TCVN5712-1"],
                               input=letter.encode(), capture_output=True, check=True).stdout
        assert encode_legacy(letter, "TCVN3").encode("latin-1") == glibc, letter


@pytest.mark.parametrize("scheme", ["TCVN3", "VNI"])
def test_every_lowercase_letter_round_trips(scheme):
    for letter in VIETNAMESE_LETTERS:
        assert convert_legacy(encode_legacy(letter, scheme), scheme) == letter, letter


def test_every_capital_letter_round_trips_through_vni():
    for letter in VIETNAMESE_CAPITALS:
        assert convert_legacy(encode_legacy(letter, "VNI"), "VNI") == letter, letter


def test_tcvn3_capital_bases_round_trip_on_their_own():
    for letter in TCVN3_CAPITAL_BASES:
        assert convert_legacy(encode_legacy(letter, "TCVN3"), "TCVN3") == letter


def test_tcvn3_capital_toned_letters_round_trip_inside_capitals_words():
    # TCVN3 has no capital toned letters: capital fonts draw the lowercase codes as capitals,
    # so capitals are recovered from the word they stand in.
    for letter in VIETNAMESE_CAPITALS:
        word = f"X{letter}Y"
        assert convert_legacy(encode_legacy(word, "TCVN3"), "TCVN3") == word, letter


def test_tcvn3_capitalised_word_starting_with_toned_letter_comes_back_lowercase():
    # A known limit of TCVN3 itself: "Ủy" and "ủy" are the same bytes.
    assert convert_legacy(encode_legacy("Ủy ban", "TCVN3"), "TCVN3") == "ủy ban"


def test_tcvn3_capitals_heading_keeps_title_case_names_apart():
    mojibake = "CéNG HOµ X· HéI CHñ NGHÜA VIÖT NAM\nHµ Néi, ngµy 28\nUBND TØNH Hµ GIANG"
    assert convert_legacy(mojibake, "TCVN3") == (
        "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM\nHà Nội, ngày 28\nUBND TỈNH HÀ GIANG"
    )


@pytest.mark.parametrize("scheme", ["TCVN3", "VNI"])
def test_seed_paragraph_legacy_mojibake_round_trips(scheme, opening_of_1251):
    paragraph = opening_of_1251
    mojibake = encode_legacy(paragraph, scheme)
    assert mojibake != paragraph
    assert convert_legacy(mojibake, scheme) == paragraph


def test_tcvn3_mojibake_is_converted_to_unicode(opening_of_1251):
    paragraph = opening_of_1251
    decoded = decode_bytes(encode_legacy(paragraph, "TCVN3").encode("utf-8"))
    assert decoded.text == paragraph
    assert decoded.encoding == "utf-8"
    assert decoded.converted_from == "TCVN3"


def test_vni_mojibake_is_converted_to_unicode(opening_of_1251):
    paragraph = opening_of_1251
    decoded = decode_bytes(encode_legacy(paragraph, "VNI").encode("utf-8"))
    assert decoded.text == paragraph
    assert decoded.encoding == "utf-8"
    assert decoded.converted_from == "VNI"


@pytest.mark.parametrize("scheme", ["TCVN3", "VNI"])
@pytest.mark.parametrize("path", VIETNAMESE_SEED_FILES, ids=lambda p: p.name)
def test_raw_legacy_font_bytes_of_whole_seed_are_converted(path, scheme):
    text = seed_text(path)
    decoded = decode_bytes(encode_legacy(text, scheme).encode("cp1252"), path.name)
    assert decoded.text == text
    assert decoded.encoding == "cp1252"
    assert decoded.converted_from == scheme


def test_unicode_lines_in_a_tcvn3_file_are_left_alone(opening_of_1251):
    unicode_lines = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nCác ông bà Chánh Văn phòng thi hành.\n"
    legacy_paragraph = opening_of_1251
    decoded = decode_bytes((unicode_lines + encode_legacy(legacy_paragraph, "TCVN3")).encode())
    assert decoded.text == unicode_lines + legacy_paragraph
    assert decoded.converted_from == "TCVN3"


# --- rejected uploads ----------------------------------------------------------------------

def test_empty_input_is_rejected():
    assert rejection(b"") == "upload.txt: file is empty"


def test_whitespace_only_input_is_rejected():
    assert rejection(b" \r\n\t  \n") == "upload.txt: file is empty"
    assert rejection(" \n".encode("utf-16")) == "upload.txt: file is empty"


def test_png_is_rejected_as_binary_image():
    message = rejection(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    assert "binary" in message and "PNG image" in message


def test_zip_is_rejected_with_docx_extension_hint():
    message = rejection(b"PK\x03\x04\x14\x00\x06\x00" + b"[Content_Types].xml")
    assert "binary" in message and ".docx extension" in message


def test_pdf_is_rejected_with_pdf_extension_hint():
    message = rejection(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    assert "binary" in message and ".pdf extension" in message and "text layer" in message


def test_random_binary_is_rejected():
    message = rejection(random.Random(1251).randbytes(4096))
    assert "binary data" in message


def test_control_bytes_without_nul_are_rejected_as_binary():
    message = rejection(bytes(range(1, 9)) * 20 + b"plain words " * 10)
    assert "binary data (many control bytes)" in message


def test_latin1_text_that_is_not_vietnamese_is_rejected_with_offset_and_hint():
    data = "Größe der Übung für die Straße".encode("latin-1")
    message = rejection(data)
    assert "invalid byte 0xF6 at offset 2" in message
    assert "save the file as UTF-8" in message


def test_message_stays_on_one_line_even_for_odd_file_names():
    with pytest.raises(UndecodableInput, match=r"^quyet dinh\.txt: file is empty$"):
        decode_bytes(b"", "quyet\ndinh.txt")
