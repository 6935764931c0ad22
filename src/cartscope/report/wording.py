"""Small rules of English that the report's sentences share."""

from __future__ import annotations


def join_words(parts: list[str]) -> str:
    """"a", "a and b", "a, b and c" (no serial comma, as the report's prose is written)."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
