"""The project board: the winning designs' tasks, who is on each and how many places are
left, joining a task, the organizers' confirmation (which pays the hours from the
co-design fund) and leaving, each behind a confirmation page, and adding tasks."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from p2pcommons.humanize import format_amount
from p2pcommons.i18n import activate_community_zone
from p2pcommons.viewkit import REFUSED, attempt

from .. import selectors, services
from ..forms import SpendForm, TaskForm
from ..models import Challenge, Project, Task, Volunteer
from ..transitions import VOLUNTEER
from .common import challenge_or_404, organizes

V = Volunteer.Status


def board_page(
    request: HttpRequest, challenge: Challenge, *, task_form: TaskForm | None = None, spend_form=None
) -> HttpResponse:
    user = request.user
    activate_community_zone(challenge.community)
    organizer = organizes(request, challenge)
    tasks = list(selectors.tasks_of(challenge=challenge))
    projects = list(Project.objects.filter(challenge=challenge).select_related("proposal"))
    building = challenge.phase == Challenge.Phase.BUILDING
    can_join = building and selectors.can_vote(user=user, challenge=challenge)
    # A volunteer's buttons depend only on its status and whether it is the viewer's own
    # place (the machine's checks: organizer of this challenge, the volunteer, building,
    # not oneself), so the machine is asked once per kind: a fixed number of queries.
    buttons: dict[tuple[str, bool], list] = {}

    def buttons_of(volunteer: Volunteer) -> list:
        key = (volunteer.status, volunteer.member_id == user.pk)
        if key not in buttons:
            buttons[key] = VOLUNTEER.buttons(volunteer, user) if building else []
        return buttons[key]

    rows = []
    for task in tasks:
        task.project.challenge = challenge
        volunteers = list(task.volunteers.all())
        mine = next((v for v in volunteers if v.member_id == user.pk), None)
        rows.append(
            {
                "task": task,
                "volunteers": [
                    {"volunteer": v, "buttons": buttons_of(v)} for v in volunteers
                ],
                "left": max(task.places - len(volunteers), 0),
                "mine": mine,
                "joinable": can_join and mine is None and task.status == Task.Status.OPEN
                and len(volunteers) < task.places,
            }
        )  # fmt: skip
    by_project = [{"project": p, "rows": [r for r in rows if r["task"].project_id == p.pk]} for p in projects]
    context = {
        "challenge": challenge,
        "projects": by_project,
        "organizer": organizer,
        "building": building,
        "task_form": task_form or (TaskForm(challenge=challenge) if organizer and building and projects else None),
        "budget_left": services.budget_left(challenge=challenge),
        "spend_form": spend_form
        or (
            SpendForm(challenge=challenge)
            if organizer
            and challenge.budget is not None
            and challenge.phase in (Challenge.Phase.BUILDING, Challenge.Phase.DONE)
            else None
        ),
    }
    return render(request, "codesign/board.html", context)


@login_required
@require_GET
def project_board(request: HttpRequest, pk: int) -> HttpResponse:
    return board_page(request, challenge_or_404(request, pk))


@login_required
@require_POST
def task_create(request: HttpRequest, pk: int) -> HttpResponse:
    challenge = challenge_or_404(request, pk)
    if not organizes(request, challenge):
        raise Http404("Only organizers add tasks.")
    form = TaskForm(request.POST, challenge=challenge)
    if form.is_valid():
        data = form.cleaned_data
        task = attempt(
            request,
            lambda: services.task_create(
                project=data["project"],
                actor=request.user,
                title=data["title"],
                hours=data["hours"],
                when=data["when"],
                places=data["places"],
                skill=data["skill"],
                tool=data["tool"],
            ),
            form=form,
        )
        if task is not REFUSED:
            messages.success(request, _("“%(title)s” is on the board: neighbors can join it.") % {"title": task.title})
            return redirect(f"{reverse('codesign:board', args=[challenge.pk])}#task-{task.pk}")
    return board_page(request, challenge, task_form=form)


def _task_or_404(request: HttpRequest, pk: int) -> Task:
    task = get_object_or_404(Task.objects.select_related("project__challenge"), pk=pk)
    challenge_or_404(request, task.project.challenge_id)  # only members of its community
    return task


@login_required
@require_POST
def task_join(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(request, pk)
    if attempt(request, lambda: services.task_join(task=task, member=request.user)) is not REFUSED:
        messages.success(
            request,
            _(
                "You are on “%(title)s”. Once it is done, an organizer confirms it and "
                "%(hours)s come to you from the co-design fund."
            )
            % {"title": task.title, "hours": format_amount(task.hours, "HOUR")},
        )
    return redirect(f"{reverse('codesign:board', args=[task.project.challenge_id])}#task-{task.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def volunteer_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """GET asks to confirm (an organizer confirming the hours, or the volunteer leaving);
    POST does it."""
    volunteer = get_object_or_404(
        Volunteer.objects.select_related("task__project__challenge", "member__profile"), pk=pk
    )
    challenge = challenge_or_404(request, volunteer.task.project.challenge_id)
    action = VOLUNTEER.by_name.get(step)
    if action is None:
        raise Http404("No such step.")
    board = f"{reverse('codesign:board', args=[challenge.pk])}#task-{volunteer.task_id}"
    if request.method == "POST":
        if step == "confirm":
            done = attempt(request, lambda: services.volunteer_confirm(volunteer=volunteer, actor=request.user))
            text = _("Confirmed: %(hours)s paid to %(name)s.") % {
                "hours": format_amount(volunteer.task.hours, "HOUR"),
                "name": volunteer.member.public_name,
            }
        else:
            done = attempt(request, lambda: services.volunteer_leave(volunteer=volunteer, actor=request.user))
            text = _("You left “%(title)s”.") % {"title": volunteer.task.title}
        if done is not REFUSED:
            messages.success(request, text)
        return redirect(board)
    refusal = VOLUNTEER.refusal(step, volunteer, request.user)
    if refusal is not None:
        messages.error(request, str(refusal))
        return redirect(board)
    context = {"challenge": challenge, "volunteer": volunteer, "action": action, "board": board}
    return render(request, "codesign/volunteer_step.html", context)


@login_required
@require_POST
def budget_spend(request: HttpRequest, pk: int) -> HttpResponse:
    """An organizer pays a neighbor from the challenge's budget (the service keeps it
    within the budget; the form's key makes a second click pay nothing more)."""
    challenge = challenge_or_404(request, pk)
    if not organizes(request, challenge):
        raise Http404("Only organizers spend the budget.")
    form = SpendForm(request.POST, challenge=challenge)
    if form.is_valid():
        data = form.cleaned_data
        transfer = attempt(
            request,
            lambda: services.budget_spend(
                challenge=challenge,
                actor=request.user,
                amount=data["amount"],
                recipient=data["recipient"],
                memo=data["memo"],
                idempotency_key=f"codesign-spend-{challenge.pk}-{data['key']}",
            ),
            form=form,
        )
        if transfer is not REFUSED:
            messages.success(
                request,
                _("%(name)s is paid %(amount)s from the budget.")
                % {"name": data["recipient"].public_name, "amount": format_amount(transfer.amount, "CREDIT")},
            )
            return redirect(reverse("codesign:board", args=[challenge.pk]) + "#budget-heading")
    return board_page(request, challenge, spend_form=form)
