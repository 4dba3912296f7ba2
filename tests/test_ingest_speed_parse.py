"""Faster repair and parse loops (issue #11) keep the definitions they replaced: each shortcut is
checked here against the plain form it stands for."""
from __future__ import annotations

import random
import re

from conftest import DISPATCHES
from ingest.lexicon import default_lexicon
from ingest.loaders import load_file
from ingest import parse, repair


def _plain_actor_regex() -> re.Pattern[str]:
    _, names = parse._actor_matcher()
    ordered = sorted(names, key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(n.lower()) for n in ordered) + r")(?!\w)")


def test_actor_trie_matches_as_the_longest_first_alternation():
    trie, names = parse._actor_matcher()
    plain = _plain_actor_regex()
    rng = random.Random(11)
    pieces = [n.lower() for n in names] + [" ", ".", ",", "x", "-", "tỉnh", "bộ", "ủy ban"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) + rng.choice(["", " ", ",", "a"]) for _ in range(6))
        assert [(m.span(), m.group(1)) for m in trie.finditer(text)] == \
            [(m.span(), m.group(1)) for m in plain.finditer(text)], text
    for path in DISPATCHES:
        text = load_file(path).text.lower()
        assert [m.span() for m in trie.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_trie_pattern_prefers_the_longer_word():
    pattern = re.compile("(" + parse._trie_pattern(["ab", "abc", "abd", "b"]) + r")(?!\w)")
    assert [m.group(1) for m in pattern.finditer("abc ab abd b abx")] == ["abc", "ab", "abd", "b"]
    at_start = re.compile("(" + parse._trie_pattern(["ab", "abc", "b", "(x"], at_word_start=True) + r")(?!\w)")
    plain = re.compile(r"(?<!\w)(abc|ab|\(x|b)(?!\w)")
    text = "abc xab b ab. (x a(x ab_b éab"
    assert [m.span(1) for m in at_start.finditer(text)] == [m.span(1) for m in plain.finditer(text)]


def _rows(text: str) -> repair._Lines:
    """The lines `repair_text` works on (its first steps, replayed)."""
    nfc, nfc_map, _ = repair.nfc_with_offsets(text)
    stats, repairs = repair.RepairStats(), []
    lines, starts = repair._split_lines(nfc)
    lines, starts = repair._strip_boilerplate(lines, starts, stats, repairs, nfc_map)
    return repair._Lines(*repair._strip_furniture(lines, starts, stats, repairs, nfc_map))


def test_vocabulary_and_respacing_shortcuts_equal_the_per_word_forms():
    lexicon = default_lexicon()
    for path in DISPATCHES:
        rows = _rows(load_file(path).text)
        expected = set()
        for k in range(len(rows)):                # the per-word definition
            if rows.size[k] >= 4:
                for word in rows.words(k):
                    if re.search(r"[A-ZĐ0-9]", word):
                        core = word.strip(repair._LEADING_PUNCT).rstrip(repair._TRAILING_PUNCT)
                        expected.update(part for part in repair._CODE_SPLIT_RE.split(core) if len(part) > 1)
        assert repair._clean_vocabulary(rows) == expected
        respaceable = repair._respaceable(rows, lexicon)
        for k in range(len(rows)):
            for word in rows.words(k):
                assert (word in respaceable) == bool(len(word) >= 4 and repair._respace(word, lexicon))


def test_lines_hold_the_words_where_they_are():
    for text in ["a  b\tc d", "  one", "x\u00a0y ", "single", "a b c", "w1 w2 w3 w4 "]:
        rows = repair._Lines(["", text], [0, 10])
        words = text.split()
        assert [(s - 10, e - 10) for s, e in rows.word_spans(0)] == \
            [m.span() for m in re.finditer(r"\S+", text)]
        assert rows.spaced[0] == (len(" ".join(words)) == len(text.strip()))
        assert (rows.words(0), rows.first[0], rows.last[0], rows.size[0]) == (words, words[0], words[-1], len(words))
        assert rows.blank_before == [True] and rows.lead[0] == text[0].isspace()
        assert rows.trail[0] == text[-1].isspace()
        if len(words) >= 3:
            assert rows.interior(0) == " ".join(words[1:-1])


def test_split_lines_start_where_the_lines_start():
    for text in ["", "a", "a\nbc\n\nd", "x\r\ny\r\n", "\n\n"]:
        lines, starts = repair._split_lines(text)
        assert lines == [line.rstrip("\r") for line in text.split("\n")]
        assert [text[s: s + len(line)] for line, s in zip(lines, starts)] == lines
        assert all(s == 0 or text[s - 1] == "\n" for s in starts)


def _matches_ignoring_case(letter: str) -> set[str]:
    return {chr(c) for c in range(0x10000) if re.fullmatch(re.escape(letter), chr(c), re.IGNORECASE)}


def test_furniture_first_characters_are_all_a_furniture_line_can_start_with():
    for c in map(chr, range(0x10000)):
        if repair._PAGE_HEADER_RE.match(c + "ÔNG BÁO/Số 271/Ngày 12-05-2026") or \
                repair._PAGE_HEADER_RE.match(c + " CÔNG BÁO/Số 271/Ngày 12-05-2026") or \
                repair._RULE_RE.match(c + "__") or repair._STAMP_TIME_RE.match(c + "hời gian ký: x") or \
                repair._STAMP_TIME_RE.match(c + "ý bởi: x"):
            assert c in repair._FURNITURE_FIRST or c.isdecimal(), c
    for line in ["CÔNG BÁO/Số 271/Ngày 12-05-2026", "12 công báo / số 5 / ngày 1-2-2020 3", "_____",
                 "Thời gian ký: 12.05.2026", "KÝ BỞI: x", "\u212aý bởi: x", "٣ CÔNG BÁO/Số 1/Ngày 12-05-2026"]:
        assert repair._PAGE_HEADER_RE.match(line) or repair._RULE_RE.match(line) or \
            repair._STAMP_TIME_RE.match(line), line


def test_first_character_checks_pass_every_opening_the_patterns_accept():
    cue_openings = ["ban hành kèm theo", "kèm theo", "issued with", "promulgated with",
                    "attached to", "enclosed with"]
    appendix_openings = ["Phụ lục", "PHỤ LỤC", "Phu luc", "PHU LUC", "Appendix", "APPENDIX",
                         "Annex", "ANNEX", "Mẫu số", "MẪU SỐ", "Biểu số", "BIỂU SỐ", "Form No"]
    for c in map(chr, range(0x10000)):
        if any(parse._ATTACHMENT_CUE_RE.match(c + opening[1:] + " x") for opening in cue_openings):
            assert parse._may_open_attachment_cue(c), c
        if any(parse._APPENDIX_RE.match(c + opening[1:] + " 1") for opening in appendix_openings):
            assert parse._may_open_appendix(c), c
    assert parse._may_open_attachment_cue("(Ban hành") and parse._may_open_attachment_cue(" kèm")
    assert parse._may_open_appendix("**PHỤ LỤC") and not parse._may_open_appendix("Điều 1")


def test_clean_with_string_methods_equals_the_regex_definition():
    rng = random.Random(3)
    alphabet = ["#", ">", "*", "|", " ", "\t", "\u00a0", "a", "Đ", "x y", "**", "##", "\u2003", ".", "-"]
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert parse._clean(text) == parse._clean_by_regex(text), repr(text)


def test_number_patterns_opening_with_a_digit_equal_the_look_behind_forms():
    from ingest import vocab
    plain_number = re.compile(vocab.NUMBER_RE.pattern.replace(r"(\d(?<![\w/.]\d)\d{0,4})", r"(?<![\w/.])(\d{1,5})", 1))
    plain_party = re.compile(r"(?<![\w/.-])\d{1,4}-[A-ZĐ]{2,4}/[A-ZĐ]{2,4}(?![\w])")
    assert plain_number.pattern != vocab.NUMBER_RE.pattern
    texts = [load_file(path).text for path in DISPATCHES]
    texts += ["1/2/BHXH-X", "a1/BHXH-TCCB", ".12/QĐ-TTg", "/12/QĐ-TTg", "123456/BHXH-BT",
              "52-CT/TW 1-KL/TW x52-CT/TW -52-CT/TW", "12345-CT/TW"]
    for text in texts:
        assert [m.groups() + m.span() for m in vocab.NUMBER_RE.finditer(text)] == \
            [m.groups() + m.span() for m in plain_number.finditer(text)]
        assert [m.span() for m in vocab.PARTY_NUMBER_RE.finditer(text)] == \
            [m.span() for m in plain_party.finditer(text)]


def test_deadline_cues_are_in_every_deadline():
    for text in ["TRƯỚC NGÀY 12/5/2022", "Chậm Nhất ngày 1 tháng 2 năm 2023", "hạn chót 1/1/2020",
                 "KHÔNG MUỘN HƠN 3.4.2021", "đến hết ngày 30/6/2024", "no later than March 3, 2022",
                 "by 5 May 2021", "until Dec. 2, 2025"]:
        assert parse.find_deadlines(text), text
        assert parse._DEADLINE_RE.search(text) or parse._DEADLINE_EN_RE.search(text)
    assert parse.find_deadlines("trước khi báo cáo 12/5/2022") == []


def test_cached_labels_equal_the_labels_of_each_clause():
    for path, segments, context in [
            ("1.a", [("number", "1"), ("letter", "a")], {}),
            ("annex.art2.3", [("annex", "annex"), ("article", "2"), ("number", "3")],
             {"annex": ("Quy chế ban hành kèm theo Quyết định 1/QĐ-X", "of the Regulation issued with Decision 1/QĐ-X")}),
            ("annex2.ch1", None, {}), ("p3", [("paragraph", "3")], {}), ("header", None, {})]:
        assert parse._labels(path, tuple(segments) if segments else None, context.get(path.split(".", 1)[0])) == \
            (parse.label_vi(path, segments, context), parse.label_en(path, segments, context))


def _small_letter_shortcut(text: str, position: int, line_start: int) -> bool:
    return bool(repair._LOWER_LETTER_RE.match(text, position + 1)) and \
        text[position + 2: position + 3] != ")" and \
        (position - line_start > 160 or not repair._is_upper_line(text[line_start:position]))


def test_structural_break_shortcut_only_skips_breaks_the_rules_reject():
    lines = ["a) điểm một;", "CÔNG VĂN", "Ngày 1/2/2023 các đơn vị", "KT. GIÁM ĐỐC", "1. Mục một.",
             "x" * 170 + ".", "SỞ Y TẾ TỈNH", "ỦY BAN NHÂN DÂN", ""]
    cases = [(before + " " + after, len(before), 0) for before in lines
             for after in ["các đơn vị thực hiện", "b) điểm hai", "của Bộ Tài chính", "ủy ban", "đ) x", "ⓐ ABCD"]]
    for path in DISPATCHES:             # every wrap of the real texts, as repair meets them
        text = repair.repair_text(load_file(path).text).text
        for m in re.finditer(r"[ \n]", text):
            cases.append((text, m.start(), text.rfind("\n", 0, m.start()) + 1))
    shortcuts = 0
    for text, position, line_start in cases:
        if _small_letter_shortcut(text, position, line_start):
            shortcuts += 1
            assert not repair._structural_rules(text, position, line_start), text[line_start: position + 40]
    assert shortcuts > 100


def test_characters_that_fold_to_ascii_are_listed_and_folding_keeps_the_tokens():
    from ingest import vocab
    everything = list(map(chr, range(0x110000)))
    assert {c for c in everything if not c.isascii() and c.casefold().isascii()} == set(vocab._FOLDS_TO_ASCII)
    # (so that folding the ASCII tokens alone gives the ASCII tokens of the folded text)
    assert all(c.casefold() == c if c.isspace() else not any(f.isspace() for f in c.casefold())
               for c in everything)


def test_language_detection_by_tokens_equals_the_word_by_word_definition():
    from ingest import vocab

    def by_words(text: str) -> str:
        sample = vocab.unicodedata.normalize("NFC", text[:8000])
        words = vocab._WORD_RE.findall(sample)
        if not words:
            return "vi"
        vi = sum(1 for w in words if vocab._VI_LETTER_RE.search(w)) / len(words)
        en_words = vocab.stopwords("en")
        en = sum(1 for w in sample.casefold().split() if w.strip(".,;:()\"'") in en_words) / len(words)
        if vi < 0.15:
            return "en"
        return "en" if en * 2.0 > vi and en >= 0.08 else "vi"

    rng = random.Random(5)
    alphabet = list("aăâbđêeôơưxyzÀÁàá1_-.,;()'\"Ωщ²½Ⅻñü") + \
        [" ", "\t", "\u0301", "the ", "of ", "and ", "ỹ", "ﬀ", "ſuch ", "THE ", "\u212a", "ß"]
    texts = [load_file(path).text for path in DISPATCHES]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(20000)]
    texts += ["The office of the agency shall report to the ministry. " * 3, "ſuch ſaid ſhall the of " * 5]
    for text in texts:
        assert vocab.detect_language(text) == by_words(text), repr(text)


def test_deadlines_found_at_cues_equal_the_scan_of_the_whole_text():
    texts = [c.text for path in DISPATCHES for c in parse.parse_document(
        repair.repair_text(load_file(path).text), load_file(path).text, str(path)).clauses]
    rng = random.Random(9)
    pieces = ["trước ngày 12/5/2022", "TRƯỚC 1.2.2023", "chậm nhất ngày 3 tháng 4 năm 2024", "Hạn chót  5-6-2021",
              "không muộn hơn ngày 30/6/2024", "đến hết 31/12/2025", "trước", " ", "ngày", "x", "İ", "\u212a"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    for text in texts:
        assert [m.span() for m in parse._deadline_matches(text, text.lower())] == \
            [m.span() for m in parse._DEADLINE_RE.finditer(text)], text
