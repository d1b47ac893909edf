"""Text search behind one function: PostgreSQL full-text search, or a plain fallback.

``ranked_match(queryset, query, fields)`` filters ``queryset`` to rows matching the
words of ``query`` and annotates ``search_rank`` (higher is better). Each exchange's
search loader calls it over its own visibility-respecting selector, so unified search
(``apps.front``) ranks tools, offers, challenges and members alike.

- PostgreSQL: ``websearch_to_tsquery`` with the ``simple`` configuration plus prefix
  matching on the last word (so "dril" finds "drill" while typing), against a weighted
  ``to_tsvector`` of the fields (first field weight A, second B, the rest C), ranked
  with ``ts_rank``. ``simple`` (no stemming) because listings are written in several
  languages; the prefix match covers most plural and verb forms.
- SQLite (the newcomer's database): every word must appear in some field
  (``icontains``); the rank is the number of (word, field) hits weighted the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.db import connection
from django.db.models import Case, F, FloatField, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Coalesce

MAX_WORDS = 8
_WORD = re.compile(r"[\w'-]+", re.UNICODE)
_WEIGHTS = ("A", "B", "C", "D")


def words_of(query: str) -> list[str]:
    """The words searched for: letters, digits, ``'`` and ``-``; at most ``MAX_WORDS``."""
    return [w.strip("'-") for w in _WORD.findall(query or "") if w.strip("'-")][:MAX_WORDS]


def ranked_match(queryset: QuerySet, query: str, fields: Sequence[str]) -> QuerySet:
    """``queryset`` narrowed to rows whose ``fields`` match every word of ``query``,
    annotated with ``search_rank`` (float). No words: no rows."""
    words = words_of(query)
    if not words:
        return queryset.none()
    if connection.vendor == "postgresql":
        return _postgres(queryset, words, fields)
    return _fallback(queryset, words, fields)


def _postgres(queryset: QuerySet, words: list[str], fields: Sequence[str]) -> QuerySet:
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    vector = None
    for i, name in enumerate(fields):
        part = SearchVector(
            Coalesce(F(name), Value(""), output_field=TextField()), config="simple", weight=_WEIGHTS[min(i, 2)]
        )
        vector = part if vector is None else vector + part
    # Every word as written, the last also as a prefix: 'a' & 'b' & 'c':*
    terms = [re.sub(r"[^\w]", "", w) for w in words]
    terms = [t for t in terms if t]
    if not terms:
        return queryset.none()
    raw = " & ".join([*terms[:-1], f"{terms[-1]}:*"])
    search_query = SearchQuery(raw, config="simple", search_type="raw")
    # ts_rank scores partial matches too: the @@ match is the filter, the rank the order.
    return queryset.annotate(search_document=vector, search_rank=SearchRank(vector, search_query)).filter(
        search_document=search_query
    )


def _fallback(queryset: QuerySet, words: list[str], fields: Sequence[str]) -> QuerySet:
    condition = Q()
    score = Value(0.0, output_field=FloatField())
    for word in words:
        any_field = Q()
        for i, name in enumerate(fields):
            any_field |= Q(**{f"{name}__icontains": word})
            weight = (1.0, 0.4, 0.2)[min(i, 2)]
            score = score + Case(
                When(**{f"{name}__icontains": word}, then=Value(weight)),
                default=Value(0.0),
                output_field=FloatField(),
            )
        condition &= any_field
    return queryset.filter(condition).annotate(search_rank=score)


__all__ = ["MAX_WORDS", "ranked_match", "words_of"]
