"""Browser pages of tool sharing: browse, a tool and its calendar, booking, my tools and
photos, loans in both directions with their transitions, condition reports, waitlist.

Every write goes through ``services``; what a service refuses is shown on the form or as
a message, never as an error page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from apps.federation.views.browse import remote_section
from apps.peers.models import User
from p2pcommons.api.pagination import CappedCountPaginator
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_amount, format_when_short
from p2pcommons.i18n import activate_community_zone
from p2pcommons.params import query_int
from p2pcommons.transitions import Button
from p2pcommons.viewkit import REFUSED, attempt, paginate, safe_next

from . import selectors, services
from .filter_fields import filter_fields_html
from .forms import BookingForm, ConditionReportForm, PhotoForm, ToolFilterForm, ToolForm, WaitlistJoinForm
from .models import Reservation, ReservationEvent, Tool, ToolPhoto, WaitlistEntry
from .transitions import LISTING, LOAN, REPORT_ACTIONS, STEPS, WAITLIST

TOOLS_PER_PAGE = 24
LOANS_PER_PAGE = 20
CALENDAR_WEEKS = 4
MAX_WEEK = 52  # the calendar looks ahead a year at most
S = Reservation.Status


# --- browse ----------------------------------------------------------------------------
@login_required
@require_GET
def tool_list(request: HttpRequest) -> HttpResponse:
    """Search the tools of my communities, with availability and distance filters."""
    profile = getattr(request.user, "profile", None)
    location = None
    if profile is not None and profile.has_location:
        location = (float(profile.approx_latitude), float(profile.approx_longitude))
    form = ToolFilterForm(request.GET, user=request.user, has_location=location is not None)
    page, near = None, False
    if form.is_valid():
        f = form.cleaned_data
        near = f["radius_km"] is not None
        tools = selectors.tools_search(
            user=request.user,
            community_id=f["community"].pk if f["community"] else None,
            category=f["category"] or None,
            q=f["q"].strip(),
            available_from=f["available_from"],
            available_to=f["available_to"],
            near=(*location, float(f["radius_km"])) if near else None,
        )
        page = CappedCountPaginator(tools, TOOLS_PER_PAGE).get_page(request.GET.get("page"))
        page.object_list = list(page.object_list)
    filtered = any(value not in ("", None) for name, value in request.GET.items() if name != "page")
    context = {"form": form, "page": page, "near": near, "filtered": filtered, "remote": None}
    if page is not None and page.number == 1 and not _narrowed_beyond_words(form):
        # Neighbouring communities' tools have no place, calendar or local category to filter by.
        context["remote"] = remote_section(user=request.user, kind="tool", q=form.cleaned_data["q"])
    context["filter_fields"] = filter_fields_html(request, form, cacheable=not filtered and not form.errors)
    return render(request, "tools/tool_list.html", context)


def _narrowed_beyond_words(form: ToolFilterForm) -> bool:
    """Whether the search uses a filter other than words (community, category, dates, distance)."""
    return any(value not in ("", None) for name, value in form.cleaned_data.items() if name != "q")


# --- a tool, its calendar and booking -----------------------------------------------
@dataclass
class CalendarDay:
    day: date
    state: str  # past | free | partly | busy
    spans: list[str] = field(default_factory=list)
    is_today: bool = False

    # "Free" alone would read as "no fee": a day nobody has booked is "Available".
    LABELS = {
        "past": gettext_lazy("Past"),
        "free": gettext_lazy("Available"),
        "partly": gettext_lazy("Partly booked"),
        "busy": gettext_lazy("Booked"),
    }

    @property
    def label(self) -> str:
        return self.LABELS[self.state]


def _week(request: HttpRequest) -> int:
    return query_int(request.GET, "week", default=0, low=0, high=MAX_WEEK)


def _calendar(tool: Tool, week: int) -> dict:
    """Four weeks of days from the Monday ``week`` weeks ahead, in the current timezone,
    each free, partly booked or booked by the tool's live bookings (buffer included)."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    first = today - timedelta(days=today.weekday()) + timedelta(weeks=week)
    days = [first + timedelta(days=n) for n in range(7 * CALENDAR_WEEKS + 1)]
    bounds = [timezone.make_aware(datetime.combine(d, time.min), tz) for d in days]
    windows = list(selectors.busy_windows(tool=tool, after=bounds[0]).filter(starts_at__lt=bounds[-1]))
    now = timezone.now()
    rows: list[list[CalendarDay]] = []
    for n, day in enumerate(days[:-1]):
        start, end = bounds[n], bounds[n + 1]
        busy, spans = timedelta(0), []
        for window in windows:  # live windows never overlap, so their overlaps add up
            lo, hi = max(window.starts_at, start), min(window.blocked_until, end)
            if lo < hi:
                busy += hi - lo
                until = "24:00" if hi == end else f"{timezone.localtime(hi):%H:%M}"
                spans.append(_("%(start)s to %(end)s") % {"start": f"{timezone.localtime(lo):%H:%M}", "end": until})
        if end <= now:
            state = "past"
        elif busy >= end - start:
            state = "busy"
        else:
            state = "partly" if busy else "free"
        if n % 7 == 0:
            rows.append([])
        rows[-1].append(CalendarDay(day=day, state=state, spans=spans, is_today=day == today))
    return {
        "rows": rows,
        "first": days[0],
        "last": days[-2],
        "week": week,
        "prev_week": week - 1 if week > 0 else None,
        "next_week": week + 1 if week < MAX_WEEK else None,
        "windows": windows,
    }


def _visible_tool(request: HttpRequest, pk: int) -> Tool:
    return get_object_or_404(selectors.tools_visible_to(user=request.user), pk=pk)


def _tool_context(request: HttpRequest, tool: Tool, **extra) -> dict:
    context = {
        "tool": tool,
        "photos": list(tool.photos.all()),
        "is_owner": tool.owner_id == request.user.pk,
        "calendar": _calendar(tool, _week(request)),
        "form": BookingForm(),
    }
    context.update(extra)
    return context


@login_required
@require_GET
def tool_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The tool, its owner and pickup area, the availability calendar and the booking form.

    An htmx request aimed at the calendar gets the calendar alone (week navigation)."""
    tool = _visible_tool(request, pk)
    activate_community_zone(tool.community)
    if request.htmx and request.htmx.target == "calendar":
        response = render(request, "tools/_calendar.html", {"tool": tool, "calendar": _calendar(tool, _week(request))})
    else:
        response = render(request, "tools/tool_detail.html", _tool_context(request, tool))
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@login_required
@require_POST
def tool_book(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask to borrow the tool. With htmx the form alone comes back (errors) or the browser
    is sent to my loans; without JavaScript the same as a full page or a redirect."""
    tool = _visible_tool(request, pk)
    activate_community_zone(tool.community)
    form = BookingForm(request.POST)
    taken = None
    if form.is_valid():
        data = form.cleaned_data
        # The fee the page showed: the booking form always carries it; without it, nothing to compare.
        seen = data["fee_per_day"] if "fee_per_day" in request.POST else services.NOT_GIVEN
        try:
            reservation = services.reservation_request(
                tool=tool,
                borrower=request.user,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                message=data["message"],
                expected_fee_per_day=seen,
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        except RuleViolation as exc:
            form.add_service_error(exc)
            if exc.code in ("conflict", "held"):
                taken = {"starts_at": data["starts_at"], "ends_at": data["ends_at"]}
        else:
            fee = ""
            if reservation.has_fee:
                fee = " " + _("The fee, %(amount)s, is paid when you pick it up.") % {
                    "amount": format_amount(reservation.fee_total, "CREDIT")
                }
            if reservation.status == S.APPROVED:
                text = _("%(tool)s is booked for you: approved automatically.") % {"tool": tool.title}
            else:
                text = _("Your request for %(tool)s was sent to %(owner)s.") % {
                    "tool": tool.title,
                    "owner": tool.owner.public_name,
                }
            messages.success(request, f"{text}{fee}")
            target = reverse("tools:loans")
            return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
    if request.htmx:
        return render(request, "tools/_booking.html", {"tool": tool, "form": form, "taken": taken})
    return render(request, "tools/tool_detail.html", _tool_context(request, tool, form=form, taken=taken))


# --- waitlist --------------------------------------------------------------------------
@login_required
@require_POST
def waitlist_join(request: HttpRequest, pk: int) -> HttpResponse:
    tool = _visible_tool(request, pk)
    form = WaitlistJoinForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the window to wait for with the booking form first."))
        return redirect("tools:detail", tool.pk)
    entry = attempt(
        request,
        lambda: services.waitlist_join(
            tool=tool,
            member=request.user,
            starts_at=form.cleaned_data["starts_at"],
            ends_at=form.cleaned_data["ends_at"],
        ),
    )
    if entry is REFUSED:
        return redirect("tools:detail", tool.pk)
    messages.success(
        request,
        _("You are on the waitlist for %(tool)s from %(start)s. If it becomes available, it is held for you.")
        % {"tool": tool.title, "start": format_when_short(entry.starts_at)},
    )
    return redirect("tools:waitlist")


@login_required
@require_GET
def waitlist_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.waitlist_of(user=request.user), LOANS_PER_PAGE)
    for entry in page.object_list:
        entry.buttons = WAITLIST.buttons(entry, request.user)
    return render(request, "tools/waitlist.html", {"page": page, "now": timezone.now()})


def _my_entry(request: HttpRequest, pk: int) -> WaitlistEntry:
    return get_object_or_404(WaitlistEntry.objects.select_related("tool"), pk=pk, member=request.user)


@login_required
@require_POST
def waitlist_accept(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _my_entry(request, pk)
    reservation = attempt(request, lambda: services.waitlist_accept(entry=entry, actor=request.user))
    if reservation is REFUSED:
        return redirect("tools:waitlist")
    messages.success(request, _("You requested %(tool)s for the window you waited for.") % {"tool": entry.tool.title})
    return redirect("tools:loan", reservation.pk)


@login_required
@require_POST
def waitlist_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _my_entry(request, pk)
    if attempt(request, lambda: services.waitlist_withdraw(entry=entry, actor=request.user)) is not REFUSED:
        messages.success(request, _("You left the waitlist for %(tool)s.") % {"tool": entry.tool.title})
    return redirect("tools:waitlist")


# --- my tools --------------------------------------------------------------------------
def _my_tool(request: HttpRequest, pk: int) -> Tool:
    return get_object_or_404(Tool.objects.select_related("community", "category"), pk=pk, owner=request.user)


@login_required
@require_GET
def my_tools(request: HttpRequest) -> HttpResponse:
    tools = selectors.tools_of_owner(user=request.user).annotate(
        pending=Count("reservations", filter=Q(reservations__status=S.REQUESTED))
    )
    page = paginate(request, tools, TOOLS_PER_PAGE)
    for tool in page.object_list:
        tool.buttons = LISTING.buttons(tool, request.user)
    return render(request, "tools/my_tools.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def tool_create(request: HttpRequest) -> HttpResponse:
    form = ToolForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        tool = attempt(
            request,
            lambda: services.tool_create(
                owner=request.user, community=form.cleaned_data["community"], **form.service_fields()
            ),
            form=form,
        )
        if tool is not REFUSED:
            messages.success(
                request, _("%(tool)s is listed. Add a photo or two so neighbors recognize it.") % {"tool": tool.title}
            )
            return redirect("tools:photos", tool.pk)
    return render(request, "tools/tool_form.html", {"form": form, "tool": None})


@login_required
@require_http_methods(["GET", "POST"])
def tool_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tool = _my_tool(request, pk)
    title = tool.title  # the form writes what was typed onto the instance
    form = ToolForm(request.POST or None, instance=tool, user=request.user)
    if request.method == "POST" and form.is_valid():
        saved = attempt(
            request, lambda: services.tool_update(tool=tool, actor=request.user, **form.service_fields()), form=form
        )
        if saved is not REFUSED:
            messages.success(request, _("Your changes are saved."))
            return redirect("tools:detail", tool.pk)
    return render(request, "tools/tool_form.html", {"form": form, "tool": tool, "title": title})


def _set_status(request: HttpRequest, tool: Tool, step: str, done: str) -> HttpResponse:
    if attempt(request, lambda: services.tool_step(tool=tool, actor=request.user, step=step)) is not REFUSED:
        messages.success(request, done)
    return redirect(safe_next(request, reverse("tools:mine")))


@login_required
@require_POST
def tool_pause(request: HttpRequest, pk: int) -> HttpResponse:
    tool = _my_tool(request, pk)
    return _set_status(
        request, tool, "pause", _("%(tool)s is paused: neighbors can't book it now.") % {"tool": tool.title}
    )


@login_required
@require_POST
def tool_resume(request: HttpRequest, pk: int) -> HttpResponse:
    tool = _my_tool(request, pk)
    return _set_status(request, tool, "resume", _("%(tool)s is available to borrow again.") % {"tool": tool.title})


@login_required
@require_http_methods(["GET", "POST"])
def tool_retire(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST retires the listing."""
    tool = _my_tool(request, pk)
    if request.method == "POST":
        return _set_status(request, tool, "retire", _("%(tool)s is retired.") % {"tool": tool.title})
    live = tool.reservations.filter(status__in=Reservation.LIVE).count()
    return render(request, "tools/tool_retire.html", {"tool": tool, "live": live})


@login_required
@require_http_methods(["GET", "POST"])
def tool_photos(request: HttpRequest, pk: int) -> HttpResponse:
    tool = get_object_or_404(Tool.objects.prefetch_related(selectors.PHOTOS), pk=pk, owner=request.user)
    form = PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        added = attempt(
            request,
            lambda: services.photo_add(
                tool=tool, actor=request.user, upload=form.cleaned_data["image"], alt_text=form.cleaned_data["alt_text"]
            ),
            form=form,
        )
        if added is not REFUSED:
            messages.success(request, _("The photo is added."))
            return redirect("tools:photos", tool.pk)
    photos = list(tool.photos.all())
    context = {"tool": tool, "photos": photos, "form": form, "room": ToolPhoto.MAX_PER_TOOL - len(photos)}
    return render(request, "tools/photos.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def photo_remove(request: HttpRequest, pk: int, photo_id: int) -> HttpResponse:
    """GET asks for confirmation; POST removes the photo."""
    photo = get_object_or_404(
        ToolPhoto.objects.select_related("tool"), pk=photo_id, tool_id=pk, tool__owner=request.user
    )
    if request.method == "POST":
        if attempt(request, lambda: services.photo_remove(photo=photo, actor=request.user)) is not REFUSED:
            messages.success(request, _("The photo is removed."))
        return redirect("tools:photos", pk)
    return render(request, "tools/photo_remove.html", {"photo": photo, "tool": photo.tool})


# --- loans -----------------------------------------------------------------------------
LOAN_FILTERS = (
    ("", gettext_lazy("All")),
    (S.REQUESTED, gettext_lazy("Requested")),
    (S.APPROVED, gettext_lazy("Approved")),
    (S.PICKED_UP, gettext_lazy("Picked up")),
    ("overdue", gettext_lazy("Overdue")),
    (S.RETURNED, gettext_lazy("Returned")),
    ("closed", gettext_lazy("Declined, cancelled or expired")),
)
# The buttons under a loan: its steps as declared in apps.tools.transitions (the page
# shows exactly the steps the services would accept now); condition reports have their form.
STEP_SERVICES = {
    "approve": services.reservation_approve,
    "decline": services.reservation_decline,
    "cancel": services.reservation_cancel,
    "pickup": services.reservation_pickup,
    "return": services.reservation_return,
}


def loan_buttons(reservation: Reservation, user: User) -> list[Button]:
    return LOAN.buttons(reservation, user, names=STEPS)


def _loans(user: User) -> QuerySet[Reservation]:
    """Loans the user is a party of; everyone else gets a 404."""
    return selectors.reservations_of(user=user).select_related("tool__owner__trust", "borrower__trust")


# Loans still to happen or under way come first, the one starting soonest on top; finished
# ones (returned, declined, cancelled, expired) follow, the most recent first.
OPEN_FIRST = Case(
    When(status__in=(S.REQUESTED, S.APPROVED, S.PICKED_UP), then=Value(0)),
    default=Value(1),
    output_field=IntegerField(),
)


def _loan_list(request: HttpRequest, *, as_owner: bool) -> HttpResponse:
    loans = _loans(request.user)
    if as_owner:
        # Requests are answered by when the loan starts, not by when they were made.
        open_first = loans.filter(tool__owner=request.user).annotate(finished=OPEN_FIRST)
        loans = open_first.order_by(
            "finished",
            Case(When(finished=0, then="starts_at")).asc(nulls_last=True),
            Case(When(finished=1, then="starts_at")).desc(),
            "id",
        )
    else:
        loans = loans.filter(borrower=request.user)
    status = request.GET.get("status", "")
    if status == "overdue":
        loans = loans.filter(status=S.PICKED_UP, ends_at__lt=timezone.now())
    elif status == "closed":
        loans = loans.filter(status__in=(S.DECLINED, S.CANCELLED, S.EXPIRED))
    elif status in S.values:
        loans = loans.filter(status=status)
    else:
        status = ""
    page = paginate(request, loans, LOANS_PER_PAGE)
    for reservation in page.object_list:
        reservation.actions = loan_buttons(reservation, request.user)
    context = {"page": page, "as_owner": as_owner, "status": status, "filters": LOAN_FILTERS}
    return render(request, "tools/loan_list.html", context)


@login_required
@require_GET
def my_loans(request: HttpRequest) -> HttpResponse:
    """What I borrow."""
    return _loan_list(request, as_owner=False)


@login_required
@require_GET
def owner_requests(request: HttpRequest) -> HttpResponse:
    """Requests and loans of my tools."""
    return _loan_list(request, as_owner=True)


@login_required
@require_POST
def loan_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One transition through its service; a refusal is a message, not an error page."""
    service = STEP_SERVICES.get(action)
    if service is None:
        raise Http404(_("No such action."))
    reservation = get_object_or_404(_loans(request.user), pk=pk)
    extra = {"note": request.POST.get("note", "").strip()[:300]} if LOAN.by_name[action].takes_note else {}
    reservation = attempt(request, lambda: service(reservation=reservation, actor=request.user, **extra))
    if reservation is not REFUSED:
        messages.success(
            request,
            _("%(tool)s: %(status)s.")
            % {"tool": reservation.tool.title, "status": reservation.get_status_display().lower()},
        )
    return redirect(safe_next(request, reverse("tools:loan", args=[pk])))


def _report_options(reservation: Reservation, user: User) -> tuple[list[str], bool]:
    """The stages ``user`` may still report now, and whether they may report damage
    (``LOAN``'s report actions)."""
    allowed = set(LOAN.allowed_names(reservation, user))
    stages = [stage for stage, name in REPORT_ACTIONS.items() if name in allowed]
    return stages, "report_damage" in allowed


def _loan_context(request: HttpRequest, reservation: Reservation, report_form=None) -> dict:
    user = request.user
    is_borrower = reservation.borrower_id == user.pk
    reports = list(selectors.condition_reports_of(reservation=reservation))
    stages, allow_damage = _report_options(reservation, user)
    if report_form is None and stages:
        report_form = ConditionReportForm(stages=stages, allow_damage=allow_damage)
    handoff = selectors.handoff_for(reservation=reservation, user=user)
    live = reservation.status in (S.REQUESTED, S.APPROVED)
    return {
        "handoff_from": selectors.handoff_pending_until(reservation=reservation, user=user),
        "pickup_from": services.pickup_opens_at(reservation) if live else None,
        "pickup_until": services.pickup_closes_at(reservation) if live else None,
        "return_from": services.return_opens_at(reservation) if reservation.status == S.PICKED_UP else None,
        "now": timezone.now(),
        "reservation": reservation,
        "tool": reservation.tool,
        "is_owner": reservation.tool.owner_id == user.pk,
        "other": reservation.borrower if not is_borrower else reservation.tool.owner,
        "actions": loan_buttons(reservation, user),
        "handoff": handoff,
        "timeline": [(event, S(event.to_status).label) for event in reservation.events.all()],
        "reports": reports,
        "report_form": report_form,
        "reviewable": reservation.status == S.RETURNED,
    }


def _loan(request: HttpRequest, pk: int) -> Reservation:
    events = ReservationEvent.objects.select_related("actor__profile").order_by("created_at", "id")
    loans = _loans(request.user).select_related("tool__category").prefetch_related(Prefetch("events", events))
    return get_object_or_404(loans, pk=pk)


@login_required
@require_GET
def loan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    reservation = _loan(request, pk)
    activate_community_zone(reservation.tool.community)
    return render(request, "tools/loan_detail.html", _loan_context(request, reservation))


@login_required
@require_POST
def loan_condition(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the tool's condition at pickup or return."""
    reservation = _loan(request, pk)
    activate_community_zone(reservation.tool.community)
    stages, allow_damage = _report_options(reservation, request.user)
    if not stages:
        messages.error(request, _("There is no condition to record for this loan now."))
        return redirect("tools:loan", pk)
    form = ConditionReportForm(request.POST, request.FILES, stages=stages, allow_damage=allow_damage)
    if form.is_valid():
        data = form.cleaned_data
        report = attempt(
            request,
            lambda: services.condition_report_create(
                reservation=reservation,
                author=request.user,
                stage=data["stage"],
                condition=data["condition"],
                note=data["note"],
                photo=data["photo"],
                damage=data.get("damage", False),
            ),
            form=form,
        )
        if report is not REFUSED:
            messages.success(request, _("The condition is recorded."))
            return redirect("tools:loan", pk)
    return render(request, "tools/loan_detail.html", _loan_context(request, reservation, report_form=form))
