"""Turn the bytes of an uploaded text file into NFC Unicode, or say in one line why not.

Vietnamese administrative documents still arrive in pre-Unicode forms: Windows-1258 files,
and text typed in the TCVN3 (ABC, ".VnTime") or VNI-Windows fonts, whose letters were saved
as if they were Windows-1252 characters ("Céng hoµ x· héi" for "Cộng hoà xã hội"). This
module reads all of these and converts the font encodings back to real Vietnamese letters.

Whether a reading "looks Vietnamese" is judged by syllable shape: Vietnamese is written in
syllables of onset + vowel group + final consonant with at most one tone mark, and mojibake
breaks that shape while correctly decoded text keeps it.
"""
from __future__ import annotations

import codecs
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LEGACY_TABLES_PATH = Path(__file__).parent / "data" / "legacy_encodings.json"
LEGACY_SCHEMES = ("TCVN3", "VNI")


class UndecodableInput(ValueError):
    """The upload is not readable text; the message is one line naming the file and the fix."""


@dataclass(frozen=True)
class DecodedText:
    text: str                   # NFC Unicode
    encoding: str               # codec used to read the bytes: "utf-8", "utf-16", "cp1258", ...
    converted_from: str | None  # "TCVN3" or "VNI" when font-encoded text was converted, else None


# --- Vietnamese syllable shape -------------------------------------------------------------

_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below
_VOWELS = "aăâeêioôơuưy"
_ONSETS = "ngh|ng|gh|gi|ch|kh|nh|ph|th|tr|qu|b|c|d|đ|g|h|k|l|m|n|p|q|r|s|t|v|x"
_VOWEL_GROUPS = (
    "iêu oai oay oeo uây uôi ươi ươu uya uyê uyu yêu "
    "ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi oo ua uâ uê ui uô uơ uy ưa ưi ươ ưu yê "
    "a ă â e ê i o ô ơ u ư y"
).split()
_CODAS = "ch|ng|nh|c|k|m|n|p|t"  # k only in highland place names such as Đắk Lắk
_SYLLABLE = re.compile(rf"(?:{_ONSETS})?(?:{'|'.join(_VOWEL_GROUPS)})(?:{_CODAS})?")

_VIETNAMESE_LETTERS = frozenset(
    unicodedata.normalize("NFC", base + tone)
    for base in _VOWELS + _VOWELS.upper()
    for tone in ("", *_TONE_MARKS)
) | frozenset("đĐ") | frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

# Legacy codes such as "·" (ã) or "­" (ư) are not letters, so tokens split only on
# whitespace, digits, ASCII punctuation and common typographic punctuation.
_TOKEN_SEPARATORS = re.compile(r"[\s\d!-/:-@\[-`{-~“”‘’„–—…•]+")


def _strip_tones(word: str) -> tuple[str, int]:
    decomposed = unicodedata.normalize("NFD", word)
    toneless = "".join(c for c in decomposed if c not in _TONE_MARKS)
    return unicodedata.normalize("NFC", toneless), len(decomposed) - len(toneless)


@lru_cache(maxsize=65_536)
def _is_vietnamese_syllable(token: str) -> bool | None:
    """True/False for a token with Vietnamese-looking letters; None for vowelless abbreviations."""
    if not all(c in _VIETNAMESE_LETTERS for c in token):
        return False
    toneless, tones = _strip_tones(token.lower())
    if not any(c in _VOWELS for c in toneless):
        return None  # "CĐ", "HĐND": abbreviations say nothing either way
    return tones <= 1 and _SYLLABLE.fullmatch(toneless) is not None


def _syllable_counts(text: str) -> tuple[int, int]:
    """(valid, invalid) counts over tokens that contain any non-ASCII character."""
    valid = invalid = 0
    for token in _TOKEN_SEPARATORS.split(unicodedata.normalize("NFC", text)):
        if token.isascii():
            continue
        verdict = _is_vietnamese_syllable(token)
        if verdict is True:
            valid += 1
        elif verdict is False:
            invalid += 1
    return valid, invalid


def _looks_vietnamese(text: str) -> bool:
    valid, invalid = _syllable_counts(text)
    return valid >= 1 and valid >= 3 * invalid


# --- legacy font encodings -----------------------------------------------------------------

@dataclass(frozen=True)
class _LegacyTable:
    encode: dict[str, str]   # Unicode letter -> legacy text
    decode: dict[str, str]   # legacy text -> Unicode letter
    decode_pattern: re.Pattern[str]


@lru_cache(maxsize=None)
def _legacy_table(scheme: str) -> _LegacyTable:
    if scheme not in LEGACY_SCHEMES:
        raise ValueError(f"unknown legacy encoding {scheme!r}; expected one of {LEGACY_SCHEMES}")
    tables = json.loads(LEGACY_TABLES_PATH.read_text(encoding="utf-8"))
    letters: dict[str, str] = tables[scheme]["letters"]
    decode = {legacy: letter for letter, legacy in letters.items()}
    if scheme == "VNI":
        # Accept a mark byte whose case differs from its base letter; the base decides the case.
        for letter, legacy in letters.items():
            if len(legacy) == 2:
                decode.setdefault(legacy[0] + legacy[1].swapcase(), letter)
    alternatives = sorted(decode, key=len, reverse=True)  # "ôù" (ớ) must win over "ô" (ơ)
    pattern = re.compile("|".join(re.escape(a) for a in alternatives))
    return _LegacyTable(encode=dict(letters), decode=decode, decode_pattern=pattern)


def encode_legacy(text: str, scheme: str) -> str:
    """Unicode -> TCVN3/VNI text as it reads in Windows-1252; the inverse of convert_legacy.

    TCVN3 has no capital toned letters (its capital fonts draw the lowercase codes as
    capitals), so those are written with the lowercase codes, as the fonts did.
    """
    table = _legacy_table(scheme).encode
    out = []
    for char in unicodedata.normalize("NFC", text):
        legacy = table.get(char)
        if legacy is None and scheme == "TCVN3":
            legacy = table.get(char.lower())
        out.append(char if legacy is None else legacy)
    return "".join(out)


def convert_legacy(text: str, scheme: str) -> str:
    """TCVN3 (ABC/.Vn fonts) or VNI-Windows text read as Windows-1252 -> NFC Unicode."""
    table = _legacy_table(scheme)
    converted = table.decode_pattern.sub(lambda m: table.decode[m.group()], text)
    if scheme == "TCVN3":
        converted = "".join(_restore_capitals(line) for line in converted.splitlines(keepends=True))
    return unicodedata.normalize("NFC", converted)


_WORD = re.compile(r"[^\W\d_]+")
_ASCII_LOWERCASE = re.compile("[a-z]")
_CONVERTED_LOWERCASE = re.compile(
    "[" + "".join(sorted(c for c in _VIETNAMESE_LETTERS if not c.isascii() and c.islower())) + "]"
)


def _is_capitals_word(word: str) -> bool:
    return not _ASCII_LOWERCASE.search(word) and sum(c.isupper() for c in word) >= 2


def _restore_capitals(line: str) -> str:
    """Uppercase TCVN3 words that were typed in a capital font ("CộNG HOà" -> "CỘNG HOÀ").

    A word with one leading capital ("Xã") may be a capitalised word or a capitals-font
    word; it is uppercased only when every neighbouring word on its line is in capitals.
    """
    words = list(_WORD.finditer(line))
    pieces, last = [], 0
    for i, match in enumerate(words):
        word = match.group()
        if _ASCII_LOWERCASE.search(word) or not _CONVERTED_LOWERCASE.search(word):
            continue
        if not _is_capitals_word(word):
            neighbours = [w.group() for w in words[max(i - 1, 0):i + 2] if w is not match]
            in_capitals_line = (
                word[0].isupper() and neighbours
                and all(_is_capitals_word(n) for n in neighbours)
                and not all(n.isascii() for n in neighbours)
            )
            if not in_capitals_line:
                continue
        pieces += [line[last:match.start()], word.upper()]
        last = match.end()
    return "".join(pieces) + line[last:] if pieces else line


_DETECTION_SAMPLE_CHARS = 200_000
# Letters beyond Latin-1 cannot come from font bytes read as Windows-1252: a line holding
# one is already Unicode, whatever the rest of the file is.
_UNICODE_ONLY_LETTERS = frozenset(c for c in _VIETNAMESE_LETTERS if ord(c) > 0xFF)


def _is_unicode_vietnamese(line: str) -> bool:
    return not _UNICODE_ONLY_LETTERS.isdisjoint(line)


def detect_legacy_font_encoding(text: str) -> str | None:
    """"TCVN3" or "VNI" when text is font-encoded Vietnamese read as Windows-1252, else None.

    It must read badly as it is (many non-syllables) and well after conversion (mostly
    syllables, clearly more than before), so real Unicode Vietnamese and English pass as is.
    """
    sample = "".join(line for line in text[:_DETECTION_SAMPLE_CHARS].splitlines(keepends=True)
                     if not _is_unicode_vietnamese(line))
    valid_before, invalid_before = _syllable_counts(sample)
    if invalid_before == 0 or invalid_before < 0.3 * (valid_before + invalid_before):
        return None
    best: tuple[int, str] | None = None
    for scheme in LEGACY_SCHEMES:
        valid, invalid = _syllable_counts(convert_legacy(sample, scheme))
        reads_well = valid >= 2 and invalid <= 0.2 * (valid + invalid)
        gained_enough = valid - valid_before >= max(2, 0.3 * (valid + invalid))
        if reads_well and gained_enough and (best is None or valid - invalid > best[0]):
            best = (valid - invalid, scheme)
    return best[1] if best else None


def _convert_legacy_lines(text: str, scheme: str) -> str:
    """convert_legacy, but keep lines that are already Unicode or read worse converted."""
    out = []
    for line in text.splitlines(keepends=True):
        if _is_unicode_vietnamese(line):
            out.append(line)
            continue
        converted = convert_legacy(line, scheme)
        valid_before, invalid_before = _syllable_counts(line)
        valid_after, invalid_after = _syllable_counts(converted)
        reads_worse = valid_after - invalid_after < valid_before - invalid_before
        out.append(line if reads_worse else converted)
    return "".join(out)


# --- bytes -> text -------------------------------------------------------------------------

_BINARY_SIGNATURES = (
    (b"%PDF", "a PDF document; upload PDFs with the .pdf extension so their text layer "
              "is extracted"),
    (b"PK\x03\x04", "a ZIP archive such as .docx; upload Word files with the .docx extension "
                    "so their text is extracted"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office (.doc/.xls) file; save it as .docx "
                                          "or as UTF-8 text and upload that"),
    (b"\x89PNG", "a PNG image; upload the document's text, not a picture of it"),
    (b"\xff\xd8\xff", "a JPEG image; upload the document's text, not a picture of it"),
    (b"GIF8", "a GIF image; upload the document's text, not a picture of it"),
    (b"\x7fELF", "an ELF executable, not a document"),
)
_BOMS = (  # (BOM, codec for the bytes after it, name reported); UTF-32 LE before UTF-16 LE
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"), (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"), (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_CONTROL_BYTES = frozenset(range(0x20)) - frozenset(b"\t\n\v\f\r\x1a\x1b")
_MAX_CONTROL_SHARE = 0.05
_BINARY_CHECK_BYTES = 65_536


def _reject_known_binary_format(data: bytes, name: str) -> None:
    for signature, what in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise UndecodableInput(f"{name}: binary file, {what}")


def _reject_binary_bytes(data: bytes, name: str) -> None:
    head = data[:_BINARY_CHECK_BYTES]
    if b"\x00" in head:
        reason = "contains NUL bytes"
    elif sum(b in _CONTROL_BYTES for b in head) > _MAX_CONTROL_SHARE * len(head):
        reason = "many control bytes"
    else:
        return
    raise UndecodableInput(
        f"{name}: binary data ({reason}), not a text file; upload UTF-8 text, "
        "or a .pdf/.docx file under its own extension"
    )


def _reject_control_characters(text: str, name: str) -> None:
    head = text[:_BINARY_CHECK_BYTES]
    controls = sum(ord(c) in _CONTROL_BYTES for c in head)
    if "\x00" in head or controls > _MAX_CONTROL_SHARE * len(head):
        raise UndecodableInput(
            f"{name}: binary data (control characters after decoding), not a text file; "
            "upload UTF-8 text, or a .pdf/.docx file under its own extension"
        )


def _reject_empty(text: str | bytes, name: str) -> None:
    if not text.strip():
        raise UndecodableInput(f"{name}: file is empty")


def decode_bytes(data: bytes, name: str = "input") -> DecodedText:
    """Read an uploaded text file: BOM, UTF-8, Windows-1258, or TCVN3/VNI font bytes.

    Font-encoded Vietnamese that reached us as Unicode is converted too. Raises
    UndecodableInput for empty, binary or unreadable input.
    """
    name = _CONTROL_CHARACTERS.sub(" ", name)  # keep every message on one line
    _reject_empty(data, name)
    _reject_known_binary_format(data, name)
    converted_from = None
    for bom, codec, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(codec)
            except UnicodeDecodeError as err:
                raise UndecodableInput(
                    f"{name}: starts with a {encoding.removesuffix('-sig').upper()} byte-order "
                    f"mark but the byte at offset {err.start + len(bom)} is invalid in that "
                    "encoding; save the file as UTF-8"
                ) from None
            _reject_control_characters(text, name)  # binary data can begin with BOM-like bytes
            break
    else:
        _reject_binary_bytes(data, name)  # only without a BOM: UTF-16/32 text is full of NULs
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as err:
            text, encoding, converted_from = _decode_legacy_bytes(data, name, err)
    _reject_empty(text, name)
    if converted_from is None:
        converted_from = detect_legacy_font_encoding(text)
        if converted_from:
            text = _convert_legacy_lines(text, converted_from)
    return DecodedText(unicodedata.normalize("NFC", text), encoding, converted_from)


def _decode_legacy_bytes(
    data: bytes, name: str, utf8_error: UnicodeDecodeError
) -> tuple[str, str, str | None]:
    """Windows-1258 if it reads as Vietnamese, else TCVN3/VNI font bytes, else reject."""
    try:
        # Windows-1258 writes most tones as combining marks after the letter: NFC joins them.
        text = unicodedata.normalize("NFC", data.decode("cp1258"))
        if _looks_vietnamese(text):
            return text, "cp1258", None
    except UnicodeDecodeError:
        pass
    try:
        text, encoding = data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:  # five bytes cp1252 leaves undefined
        text, encoding = data.decode("latin-1"), "latin-1"
    scheme = detect_legacy_font_encoding(text)
    if scheme:
        return _convert_legacy_lines(text, scheme), encoding, scheme
    bad = utf8_error.start
    raise UndecodableInput(
        f"{name}: not UTF-8 (invalid byte 0x{data[bad]:02X} at offset {bad}) and not readable as "
        "Vietnamese Windows-1258, TCVN3 or VNI text; save the file as UTF-8 and upload it again"
    )
