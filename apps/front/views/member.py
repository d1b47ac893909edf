"""Pages for members: the dashboard (home when signed in) and unified search."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy

from apps.peers.blueprints import Item
from apps.peers.search import words_of
from p2pcommons.viewkit import paginate

from .. import unified_search
from ..dashboard import blueprints_for, dashboard_for
from ..unified_search import MAX_QUERY_LENGTH, kinds_for, location_of

RESULTS_PER_PAGE = 20
DISTANCES = (
    ("", gettext_lazy("Any distance")),
    ("1", gettext_lazy("Within 1 km")),
    ("2", gettext_lazy("Within 2 km")),
    ("5", gettext_lazy("Within 5 km")),
    ("10", gettext_lazy("Within 10 km")),
)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """What needs the member, what is coming up, their balances and trust, and what is
    new in their communities; a member of no community is led to join one."""
    board = dashboard_for(request.user)
    labels = board.labels

    def rows(items: list[Item]) -> list[dict]:
        return [{"item": item, "label": labels.get(item.kind, "")} for item in items]

    context = {
        "board": board,
        "actions": rows(board.actions),
        "upcoming": rows(board.upcoming),
        "activity": rows(board.activity),
        "now": timezone.now(),
    }
    return render(request, "front/dashboard.html", context)


class SearchForm(forms.Form):
    """The search box with its filters. ``kinds`` are the choices offered; the distance
    filter is there only for a member with a location (``with_distance``)."""

    q = forms.CharField(
        label=gettext_lazy("Search for"),
        max_length=MAX_QUERY_LENGTH,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": gettext_lazy("A tool, a skill, a neighbor...")}),
    )
    kind = forms.MultipleChoiceField(label=gettext_lazy("Show"), required=False, widget=forms.CheckboxSelectMultiple)
    within_km = forms.TypedChoiceField(
        label=gettext_lazy("Distance from your place"),
        choices=DISTANCES,
        coerce=float,
        empty_value=None,
        required=False,
    )

    def __init__(self, *args, kinds: list[tuple[str, str]], with_distance: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds
        if not with_distance:
            del self.fields["within_km"]


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """One box across the exchanges of the member's communities and their neighbors."""
    near = location_of(request.user)
    blueprints = blueprints_for(user=request.user)
    kinds = kinds_for(user=request.user, blueprints=blueprints)
    form = SearchForm(request.GET or None, kinds=kinds, with_distance=near is not None)
    page = None
    query = ""
    if form.is_bound and form.is_valid():
        query = form.cleaned_data["q"].strip()
        if words_of(query):
            hits = unified_search.search(
                user=request.user,
                query=query,
                kinds=form.cleaned_data["kind"] or None,
                within_km=form.cleaned_data.get("within_km"),
                blueprints=blueprints,
            )
            page = paginate(request, hits, per_page=RESULTS_PER_PAGE)
    return render(
        request,
        "front/search.html",
        {"form": form, "page": page, "query": query, "near": near},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
