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


def _pieces(text: str):
    """The pieces `repair_text` builds (its first half, replayed)."""
    result = {}
    original = repair._assemble

    def spy(pieces, *args):
        result["pieces"] = pieces
        return original(pieces, *args)

    repair._assemble = spy
    try:
        repair.repair_text(text)
    finally:
        repair._assemble = original
    return result["pieces"]


def test_vocabulary_and_respacing_shortcuts_equal_the_per_piece_forms():
    lexicon = default_lexicon()
    for path in DISPATCHES:
        pieces = _pieces(load_file(path).text)
        line_tokens = {}
        for p in pieces:
            line_tokens[p.line] = 5 if p.line % 3 else 2
        expected = set()
        for piece in pieces:                      # the per-piece definition
            if line_tokens.get(piece.line, 0) >= 4:
                for word in set(repair._CODE_WORD_FAST_RE.findall(piece.text)):
                    core = word.strip(repair._LEADING_PUNCT).rstrip(repair._TRAILING_PUNCT)
                    expected.update(part for part in repair._CODE_SPLIT_RE.split(core) if len(part) > 1)
        assert repair._clean_vocabulary(pieces, line_tokens) == expected
        respaceable = repair._respaceable(pieces, lexicon)
        for piece in pieces:
            words = piece.text.split(" ")
            assert (not respaceable.isdisjoint(words)) == \
                any(repair._respace(w, lexicon) for w in set(words) if len(w) >= 4)
            if not piece.blob:
                assert (piece.text in respaceable) == bool(repair._respace(piece.text, lexicon))


def test_structural_break_sentence_end_equals_the_regex():
    old = re.compile(r"[.:;!?]$|\./\.$")
    for line in ["a.", "a./.", "a:", "a ;", "a", "a!  ", "a?\t", "Điều 1", "x./", "", " ", "a.\n"]:
        stripped = line.rstrip()
        assert bool(old.search(stripped)) == stripped.endswith((".", ":", ";", "!", "?")), line
