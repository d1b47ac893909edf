"""The one pagination class every list endpoint uses."""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """Page-number pagination; clients may ask for up to ``max_page_size`` rows."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
