"""Template pieces of the co-design pages: the challenge's own menu, whose entries
follow its phase (designs once proposals open, the ballot while voting, results once
totals may be shown, the board once building)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .. import services
from ..models import Challenge

register = template.Library()
PH = Challenge.Phase


@register.inclusion_tag("codesign/_challenge_nav.html")
def challenge_nav(challenge: Challenge, current: str = "") -> dict:
    entries = [("challenge", pgettext("a challenge's menu", "About"), True)]
    entries.append(("proposals", _("Designs"), challenge.phase != PH.IDEAS))
    entries.append(("ballot", _("Vote"), challenge.phase == PH.VOTING))
    entries.append(("results", _("Results"), challenge.phase in (PH.VOTING, PH.BUILDING, PH.DONE)))
    entries.append(("board", _("Build"), challenge.voting_closed))
    return {
        "challenge": challenge,
        "entries": [(name, label) for name, label, shown in entries if shown],
        "current": current,
        "totals": services.totals_visible(challenge=challenge),
    }
