"""Words as full-text search sees them: the terms of a query, and snippets that show them.

A word is a run of letters and digits (anything else, `_` included, separates words), compared
in lower case: what SQLite's `unicode61` tokenizer and the PostgreSQL index (which replaces
every other character by a space before `to_tsvector('simple', ...)`) both index. Terms are
matched as whole words: no stemming, no prefixes, no diacritics removed.

Offers:
- search_terms: the distinct words of a query, lower-cased, in order.
- snippet: at most about SNIPPET_CHARS characters of a text around its matched words, with
  the ranges of those words in it (offsets in Unicode code points, as Python counts them).
"""

import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

WORD = re.compile(r"[^\W_]+")
SNIPPET_CHARS = 200
CONTEXT_CHARS = 40
ELLIPSIS = "…"


def search_terms(query: str) -> list[str]:
    """The distinct words of a query, lower-cased, in the order they come; [] when none."""
    return list(dict.fromkeys(word.lower() for word in WORD.findall(query)))


@dataclass(frozen=True, slots=True)
class Snippet:
    """A piece of a text and where the matched words are in it.

    Attributes:
        text: The piece, with an ellipsis where the text was cut.
        matches: (start, length) of each matched word within `text`, in order.
    """

    text: str
    matches: list[tuple[int, int]]


def snippet(text: str, terms: Collection[str], width: int = SNIPPET_CHARS) -> Snippet:
    """The part of `text` around its words that are `terms`, cut at word boundaries.

    The window of at most `width` characters starts a little before the match that begins the
    run with the most distinct terms (then the most matches); the whole text when it fits.

    Args:
        text: A message's text.
        terms: Lower-case words, as `search_terms` makes them.
        width: The most characters taken from `text`.
    """
    found = [match for match in WORD.finditer(text) if match.group().lower() in terms]
    start, end = _window(text, found, width)
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(text) else ""
    matches = [
        (match.start() - start + len(prefix), match.end() - match.start())
        for match in found
        if start <= match.start() and match.end() <= end
    ]
    return Snippet(prefix + text[start:end] + suffix, matches)


def _window(text: str, found: list[re.Match[str]], width: int) -> tuple[int, int]:
    """[start, end) of the snippet: whole words around the best run of matches."""
    if len(text) <= width:
        return 0, len(text)
    anchor = _best_run(found, width - CONTEXT_CHARS)
    first = found[anchor].start() if found else 0
    last = found[anchor].end() if found else 0
    start = max(0, min(first - CONTEXT_CHARS, len(text) - width))
    end = min(len(text), start + width)
    while start < first and (_inside_word(text, start) or text[start].isspace()):
        start += 1
    cut = end
    while cut > last and (_inside_word(text, cut) or text[cut - 1].isspace()):
        cut -= 1
    if end - cut <= width // 2:  # else a word too long to keep whole is cut where it stands
        end = cut
    return start, end


def _inside_word(text: str, position: int) -> bool:
    """Whether a cut at `position` would split a word."""
    return 0 < position < len(text) and text[position - 1].isalnum() and text[position].isalnum()


def _best_run(found: list[re.Match[str]], span: int) -> int:
    """The index of the match whose next `span` characters hold the most distinct terms.

    Ties go to more matches, then to the earliest run (two pointers: linear in matches).
    """
    best, best_key = 0, (0, 0)
    in_run: Counter[str] = Counter()
    end = 0
    for index, match in enumerate(found):
        end = max(end, index)
        while end < len(found) and found[end].end() <= match.start() + span:
            in_run[found[end].group().lower()] += 1
            end += 1
        key = (sum(1 for count in in_run.values() if count), end - index)
        if key > best_key:
            best, best_key = index, key
        if end > index:
            in_run[match.group().lower()] -= 1
    return best
