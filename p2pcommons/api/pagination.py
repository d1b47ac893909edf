"""The one pagination class every list endpoint uses, and the paginator behind it.

Why a capped count: an exact ``COUNT(*)`` reads every matching row, so it grows with the
data (3.6-4x per 10x rows on the tools list, issue 17) while a page reads 25 rows. The
count is exact up to ``COUNT_CAP`` rows; beyond that it says ``COUNT_CAP`` and the
paginator knows the list is longer (``capped``). Pages keep going past the cap: whether
there is a next page is then read from one row more than the page shows, so a client
walks every row with ``next`` as before. We chose this over an estimated count (the
planner's estimate is wrong by orders of magnitude on filtered lists) and over cursor
pagination (it would drop ``count`` and page numbers from the API schema, which clients
and generated code rely on): ``count`` stays an integer, and an exact one for every list
short enough for a person to page through.
"""

from __future__ import annotations

import math
from functools import cached_property

from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import QuerySet
from rest_framework import pagination

COUNT_CAP = 1000


class CappedPage(Page):
    """A page that knows from one row more whether another page follows (past the cap)."""

    more: bool | None = None

    def has_next(self) -> bool:
        return self.more if self.more is not None else super().has_next()


class CappedCountPaginator(Paginator):
    """A Django paginator whose count stops at ``COUNT_CAP`` (see the module docstring):
    ``SELECT COUNT(*) FROM (... LIMIT cap + 1)`` costs at most cap + 1 index entries,
    whatever the size of the list."""

    cap = COUNT_CAP

    @cached_property
    def _counted(self) -> int:
        rows = self.object_list
        if isinstance(rows, QuerySet):
            return rows.order_by()[: self.cap + 1].count()
        return len(rows)

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        """Whether the list holds more rows than ``count`` says."""
        return self._counted > self.cap

    @property
    def num_pages(self) -> int:
        """Pages known so far: those of the count, and past the cap those reached plus the next."""
        known = super().num_pages
        return max(known, getattr(self, "_reached", 0))

    def validate_number(self, number) -> int:
        if not self.capped:
            return super().validate_number(number)
        number = super().validate_number(1) if number in (None, "") else number
        try:
            number = int(number)
        except (TypeError, ValueError):
            return super().validate_number(number)
        return number if number >= 1 else super().validate_number(number)

    def page(self, number) -> Page:
        number = self.validate_number(number)
        if not self.capped:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows:
            raise EmptyPage(self.error_messages["no_results"])
        page = CappedPage(rows[: self.per_page], number, self)
        page.more = len(rows) > self.per_page
        self._reached = max(math.ceil(self.count / self.per_page), number + page.more)
        return page

    def get_page(self, number) -> Page:
        """The requested page, or the last one there is (a browser page never errs)."""
        try:
            return super().get_page(number)
        except EmptyPage:
            return super().get_page(max(1, math.ceil(self.count / self.per_page)))


class PageNumberPagination(pagination.PageNumberPagination):
    """Page-number pagination with a capped count (see the module docstring); clients may
    ask for up to ``max_page_size`` rows."""

    django_paginator_class = CappedCountPaginator
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_paginated_response_schema(self, schema: dict) -> dict:
        out = super().get_paginated_response_schema(schema)
        out["properties"]["count"]["description"] = (
            f"How many rows the list holds, exact up to {COUNT_CAP}; a longer list says {COUNT_CAP}. "
            "Follow `next` to read every row."
        )
        return out
