"""Words for search: the terms of a query, and snippets with the ranges of the matched words."""

import pytest

from src.lib.words import SNIPPET_CHARS, Snippet, search_terms, snippet


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("Lisbon in MAY", ["lisbon", "in", "may"]),
        ("may, May; MAY!", ["may"]),
        ('"near" NEAR(a b) c* -d e:f', ["near", "a", "b", "c", "d", "e", "f"]),
        ("snake_case main.py e-mail", ["snake", "case", "main", "py", "e", "mail"]),
        ("Ärger in Évora, 東京 2024", ["ärger", "in", "évora", "東京", "2024"]),
        ("  %_* \"' ", []),
    ],
)
def test_search_terms_are_the_distinct_words_in_lower_case(query: str, terms: list[str]) -> None:
    assert search_terms(query) == terms


def _marked(piece: Snippet) -> list[str]:
    return [piece.text[start : start + length] for start, length in piece.matches]


def test_a_short_text_is_its_own_snippet() -> None:
    piece = snippet("Owls, OWLS and owlets", {"owls"})
    assert piece == Snippet("Owls, OWLS and owlets", [(0, 4), (6, 4)])


def test_a_long_text_is_cut_at_words_around_the_match_with_ellipses() -> None:
    text = " ".join(f"word{n}" for n in range(200))
    piece = snippet(text, {"word100"})

    assert piece.text.startswith("…word") and piece.text.endswith("…")
    body = piece.text[1:-1]
    assert len(body) <= SNIPPET_CHARS
    assert f" {body} " in f" {text} "
    assert _marked(piece) == ["word100"]
    assert piece.text.index("word100") < 60


def test_the_window_goes_where_most_distinct_terms_are() -> None:
    text = "alpha " + "filler " * 60 + "beta gamma alpha" + " filler" * 60
    piece = snippet(text, {"alpha", "beta", "gamma"})

    assert _marked(piece) == ["beta", "gamma", "alpha"]


def test_a_match_at_the_end_fills_the_window_backwards() -> None:
    text = "filler " * 100 + "omega"
    piece = snippet(text, {"omega"})

    assert piece.text.endswith("omega") and piece.text.startswith("…")
    assert len(piece.text) > SNIPPET_CHARS - 10
    assert _marked(piece) == ["omega"]


def test_without_a_matched_word_the_snippet_is_the_start() -> None:
    text = "x" * 150 + " " + "y" * 150
    piece = snippet(text, {"absent"})

    assert piece == Snippet("x" * 150 + "…", [])


def test_offsets_count_code_points() -> None:
    piece = snippet("🦉 owl", {"owl"})
    assert piece.matches == [(2, 3)]


def test_a_word_longer_than_the_window_is_cut() -> None:
    piece = snippet("z" * 500, {"absent"})
    assert piece == Snippet("z" * SNIPPET_CHARS + "…", [])
