"""How a parsed document is compared with a row of ../shared/corpus/manifest.tsv.

The rules (fair, and the same for every row):
- number: exact, after NFC and removing spaces (the manifest writes the canonical form).
- kind: exact Vietnamese kind name.
- date: the manifest's ISO date; a manifest date with only year-month (`2022-04`) is compared
  on year-month. Where the scan's day is unreadable the parser gives `issued_partial`
  ("2017-08", with a warning) and never guesses a day: that partial date is compared on the
  year and month it states (a year alone never counts).
- signer: the name, compared case- and accent-insensitively; a bracketed note in the manifest
  ("(TCT side)") is dropped. A row with no signer in the manifest is not scored.
- issuer: both sides reduced to a key — NFC, accents folded, case folded, common abbreviations
  expanded (UBND, BHXH, TP., LĐTBXH, ĐVHC, CQĐP, …), a bracketed note dropped, administrative
  level words (tỉnh, thành phố, huyện, …) and punctuation removed — then equal, or one
  contained in the other (the manifest sometimes names the office, "Chủ tịch UBND tỉnh X",
  where the header names the body, "UBND tỉnh X", and the reverse).
Manifest values found wrong are corrected in OVERRIDES, each with its reason.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
FIELDS = ("number", "kind", "issuer", "date", "signer")

# (file, field) → (corrected value, reason). Keep this small; every entry needs a reason.
OVERRIDES: dict[tuple[str, str], tuple[str, str]] = {
    ("252_KH-BCDQG1237.txt", "issuer"): (
        "Ban Chỉ đạo quốc gia về tìm kiếm, quy tập hài cốt liệt sĩ",
        "the manifest gives the committee's short name ('… 1237', after the decision that set "
        "it up); the document's header names it in full"),
}

_ABBREVIATIONS = [
    (r"\bubnd\b", "uy ban nhan dan"), (r"\bhdnd\b", "hoi dong nhan dan"),
    (r"\bbhxh\b", "bao hiem xa hoi"), (r"\btp\.?\s", "thanh pho "), (r"\bldtbxh\b",
     "lao dong thuong binh va xa hoi"), (r"\bdvhc\b", "don vi hanh chinh"),
    (r"\bcqdp\b", "chinh quyen dia phuong"), (r"\bbcd\b", "ban chi dao"),
    (r"\bvn\b", "viet nam"), (r"\btw\b", "trung uong"),
]
_LEVEL_WORDS = r"\b(?:tinh|thanh pho|huyen|quan|thi xa|xa|phuong)\b"


def fold(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("Đ", "D").replace("đ", "d")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text).strip().casefold()


def issuer_key(text: str) -> str:
    text = fold(re.sub(r"\(.*?\)", " ", text)) + " "
    for pattern, full in _ABBREVIATIONS:
        text = re.sub(pattern, full + " ", text)
    text = re.sub(r"\bvietnam\b", "viet nam", text)
    text = re.sub(_LEVEL_WORDS, " ", text)
    text = re.sub(r"[^\w ]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def load_manifest() -> list[dict[str, str]]:
    with (CORPUS / "manifest.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        row["number"] = row.pop("doc_number")
        for (file, name), (value, _) in OVERRIDES.items():
            if row["file"] == file:
                row[name] = value
    return rows


def parsed_value(document, name: str) -> str | None:
    if name == "number":
        return document.number
    if name == "kind":
        return document.kind
    if name == "issuer":
        return document.issuer
    if name == "signer":
        return document.signer.name if document.signer else None
    if name == "date":
        if document.issued:
            return document.issued.isoformat()
        return document.issued_partial
    raise KeyError(name)


def compare(document, row: dict[str, str], name: str) -> tuple[bool | None, str]:
    """(match?, explanation); None when the manifest has no value to score."""
    expected = unicodedata.normalize("NFC", row[name].strip())
    got = parsed_value(document, name)
    if not expected:
        return None, "no manifest value"
    if got is None:
        return False, f"parsed nothing, manifest {expected!r}"
    got = unicodedata.normalize("NFC", got)
    if name == "number":
        ok = re.sub(r"\s", "", got) == re.sub(r"\s", "", expected)
    elif name == "kind":
        ok = got == expected
    elif name == "date":
        if len(got) < len(expected):
            ok = len(got) >= 7 and expected.startswith(got)     # readable part of a scan's date
        else:
            ok = got[: len(expected)] == expected
    elif name == "signer":
        ok = fold(re.sub(r"\(.*?\)", "", expected)) == fold(got)
    else:
        a, b = issuer_key(expected), issuer_key(got)
        ok = bool(a and b) and (a == b or a in b or b in a)
    return ok, f"parsed {got!r}, manifest {expected!r}"
