"""What deleting an account does in tool sharing (found by ``apps.privacy`` at start-up).

Cancelled, through the loan services (the other party is told as usual): the member's
requests and approved loans not picked up, as borrower and as owner (an owner's open
request is declined), and their places on waitlists. A loan already picked up runs to
its return. Erased: their tools' descriptions, rules, deposit notes and photos (a tool
nobody ever borrowed is deleted; the others are retired and keep their title for the
history of their loans), the messages and notes they wrote on loans, their condition
reports' notes and photos. Completed loans, their fees and their reviews stay.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from apps.privacy.deletion import attempt, delete_files_on_commit, file_fields_of, register_preview
from apps.privacy.registry import register_eraser

from .models import ConditionReport, Reservation, ReservationEvent, Tool, ToolPhoto, WaitlistEntry

S = Reservation.Status


def _open_loans(user):
    return (
        Reservation.objects.filter(Q(borrower=user) | Q(tool__owner=user), status__in=(S.REQUESTED, S.APPROVED))
        .select_related("tool__owner__profile", "borrower__profile")
        .order_by("starts_at", "pk")
    )


def cancel(user) -> int:
    """Call off open loans and waitlist places; returns how many were called off."""
    from . import services

    done = 0
    for reservation in _open_loans(user):
        if reservation.borrower_id == user.pk:
            ok = attempt(lambda r=reservation: services.reservation_cancel(reservation=r, actor=user))
        elif reservation.status == S.REQUESTED:
            ok = attempt(lambda r=reservation: services.reservation_decline(reservation=r, actor=user))
        else:
            ok = attempt(lambda r=reservation: services.reservation_cancel(reservation=r, actor=user))
        done += ok
    for entry in WaitlistEntry.objects.filter(member=user, status__in=WaitlistEntry.ACTIVE):
        done += attempt(lambda e=entry: services.waitlist_withdraw(entry=e, actor=user))
    return done


def erase(user, pseudonym: str) -> None:
    tools = Tool.objects.filter(owner=user)
    storage, names = file_fields_of(ToolPhoto.objects.filter(tool__owner=user), "image", "thumbnail")
    delete_files_on_commit(storage, names)
    ToolPhoto.objects.filter(tool__owner=user).delete()
    WaitlistEntry.objects.filter(member=user).delete()
    # Neighbors waiting for one of these tools: it is no longer lent, so their wait ends.
    WaitlistEntry.objects.filter(tool__owner=user, status__in=WaitlistEntry.ACTIVE).update(
        status=WaitlistEntry.Status.PASSED
    )
    tools.filter(reservations__isnull=True).delete()
    tools.update(description="", usage_rules="", deposit_note="", status=Tool.Status.RETIRED, auto_approve=False)

    Reservation.objects.filter(borrower=user).update(message="")
    ReservationEvent.objects.filter(actor=user).update(note="")
    reports = ConditionReport.objects.filter(author=user)
    storage, names = file_fields_of(reports, "photo")
    delete_files_on_commit(storage, names)
    reports.update(note="", photo="")


def preview(user) -> dict[str, list[str]]:
    cancelled, kept = [], []
    for r in _open_loans(user):
        if r.borrower_id == user.pk:
            cancelled.append(
                _("Your loan of %(tool)s from %(owner)s") % {"tool": r.tool.title, "owner": r.tool.owner.public_name}
            )
        else:
            cancelled.append(
                _("The loan of your %(tool)s to %(borrower)s")
                % {"tool": r.tool.title, "borrower": r.borrower.public_name}
            )
    waiting = WaitlistEntry.objects.filter(member=user, status__in=WaitlistEntry.ACTIVE).count()
    if waiting:
        cancelled.append(_("Your places on tool waitlists (%(n)s)") % {"n": waiting})
    out = Reservation.objects.filter(Q(borrower=user) | Q(tool__owner=user), status=S.PICKED_UP).count()
    if out:
        kept.append(_("Loans already picked up (%(n)s) run to their return") % {"n": out})
    done = Reservation.objects.filter(Q(borrower=user) | Q(tool__owner=user), status=S.RETURNED).count()
    if done:
        kept.append(_("Completed loans (%(n)s), under your pseudonym") % {"n": done})
    return {"cancelled": cancelled, "kept": kept}


register_eraser("tools", cancel=cancel, erase=erase, order=50)
register_preview("tools", preview)
