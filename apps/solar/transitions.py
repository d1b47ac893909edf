"""The solar market's rules of who may do what, and when, declared once
(see ``p2pcommons.transitions``).

    order:   open --cancel--> cancelled      (change: same state, new quantity/price)
             open ==clearing==> filled | partial | unfilled      (the platform, in bulk)
    slot:    open --clear--> cleared --settle--> settled         (the platform)
             open | cleared --cancel--> cancelled                (an organizer, with why)
    meter:   active --retire--> retired
    standing order: active <--pause/resume--> paused; active | paused --end--> ended

Orders are changed and cancelled only by the member who placed them, and only until
gate closure (5 minutes before the slot starts): after that the book is frozen for the
clearing. The services check and move the states; the pages show these buttons and no
others; the API lists them in ``actions`` and serves one ``POST .../{id}/<step>/`` each.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from p2pcommons.humanize import format_when
from p2pcommons.transitions import Action, Machine, only, refuse_if

from .models import Meter, Order, Slot, SlotEvent, StandingOrder

O = Order.Status  # noqa: E741 - the order's states, read like the diagram above
SL = Slot.Status
M = Meter.Status
SO = StandingOrder.Status


def _is_placer(order: Order, user) -> bool:
    return user.pk == order.member_id


def _is_owner(obj, user) -> bool:
    return user.pk == obj.owner_id


def _is_standing_member(standing: StandingOrder, user) -> bool:
    return user.pk == standing.member_id


def _is_organizer(slot: Slot, user) -> bool:
    from apps.peers.selectors import is_organizer

    return is_organizer(user=user, community_id=slot.community_id)


PLACER = only(
    _is_placer, "the member who placed it", message=gettext_lazy("Only the member who placed it can do that.")
)
GATE_OPEN = refuse_if(
    lambda order, user, now: now >= order.slot.gate_closes_at,
    lambda order, user, now: (
        _("Orders for this slot closed at %(when)s, 5 minutes before it starts; it can no longer be changed.")
        % {"when": format_when(order.slot.gate_closes_at)}
    ),
    "gate_closed",
)

ORDER = Machine(
    model=Order,
    noun="order",
    actions=[
        Action(
            "change",
            gettext_lazy("Change"),
            source=(O.OPEN,),
            who=(PLACER,),
            when=(GATE_OPEN,),
            style="secondary outline",
            help=gettext_lazy("A changed order goes behind others at the same price."),
        ),
        Action(
            "cancel",
            gettext_lazy("Cancel order"),
            source=(O.OPEN,),
            target=O.CANCELLED,
            who=(PLACER,),
            when=(GATE_OPEN,),
            style="secondary",
        ),
    ],
)


def _record_slot(*, obj: Slot, actor, source: str, target: str, note: str) -> None:
    SlotEvent.objects.create(slot=obj, actor=actor, source=source, target=target, note=note[:300])


SLOT = Machine(
    model=Slot,
    noun="slot",
    record=_record_slot,
    actions=[
        Action("clear", gettext_lazy("Clear"), source=(SL.OPEN,), target=SL.CLEARED, system=True),
        Action("settle", gettext_lazy("Settle"), source=(SL.CLEARED,), target=SL.SETTLED, system=True),
        Action(
            "cancel",
            gettext_lazy("Cancel this slot"),
            source=(SL.OPEN, SL.CLEARED),
            target=SL.CANCELLED,
            who=(
                only(
                    _is_organizer,
                    "an organizer of the community",
                    message=gettext_lazy("Only an organizer of the community can do that."),
                ),
            ),
            takes_note=True,
            style="secondary",
            help=gettext_lazy("Nothing of this slot is settled or paid; everyone with an order is told why."),
        ),
    ],
)

METER = Machine(
    model=Meter,
    noun="meter",
    actions=[
        Action(
            "retire",
            gettext_lazy("Stop using this meter"),
            source=(M.ACTIVE,),
            target=M.RETIRED,
            who=(only(_is_owner, "the meter's owner", message=gettext_lazy("Only the meter's owner can do that.")),),
            style="secondary outline",
            help=gettext_lazy(
                "Its readings and trades stay; it takes no new orders and its device tokens stop working."
            ),
        ),
    ],
)

STANDING_MEMBER = only(
    _is_standing_member, "the member who made it", message=gettext_lazy("Only the member who made it can do that.")
)
STANDING = Machine(
    model=StandingOrder,
    noun="standing order",
    actions=[
        Action(
            "pause",
            gettext_lazy("Pause"),
            source=(SO.ACTIVE,),
            target=SO.PAUSED,
            who=(STANDING_MEMBER,),
            style="secondary outline",
        ),
        Action(
            "resume",
            gettext_lazy("Resume"),
            source=(SO.PAUSED,),
            target=SO.ACTIVE,
            who=(STANDING_MEMBER,),
            style="secondary outline",
        ),
        Action(
            "end",
            gettext_lazy("End"),
            source=(SO.ACTIVE, SO.PAUSED),
            target=SO.ENDED,
            who=(STANDING_MEMBER,),
            style="secondary",
            help=gettext_lazy("Orders it already placed stay until you cancel them."),
        ),
    ],
)
