"""Rules for text that the databases store or search.

Offers:
- check_no_nul: refuse a string holding U+0000 (NUL), which PostgreSQL text cannot hold:
  a NUL given as a bound value fails the statement, so it must be refused before any SQL.
"""

from src.core.exceptions import ValidationError

NUL = "\x00"


def check_no_nul(value: str, field: str) -> None:
    """Refuse a string that holds a NUL character.

    Raises:
        ValidationError: It holds one (names `field`).
    """
    if NUL in value:
        raise ValidationError("Text cannot hold the NUL character (U+0000).", field=field)
