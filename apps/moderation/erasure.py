"""What deleting an account does in moderation (found by ``apps.privacy``).

Reports the member made stay (organizers may still be deciding them, and they count
toward hiding) but lose the note they wrote. Reports about them stay for the
organizers, their labels naming the pseudonym (the deletion's sweep). The audit log
stays append-only, with one exception made for this: its labels and reasons that name
the member are rewritten to the pseudonym (who acted, what, where, about whom and when
cannot change; on PostgreSQL the trigger of migration 0004 checks it).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Q

from apps.privacy.registry import register_eraser

from .models import LABEL_MAX_LENGTH, Flag, ModerationAction


def _names(user) -> list[str]:
    profile = getattr(user, "profile", None)
    found = {
        user.email,
        user.get_full_name(),
        user.username,
        getattr(profile, "display_name", ""),
        getattr(profile, "phone", ""),
        getattr(profile, "exact_address", ""),
    }
    # Longest first, so "Max Member" is replaced before a shorter name inside it.
    return sorted((n.strip() for n in found if n and len(n.strip()) >= 3), key=len, reverse=True)


def audit_log_pseudonymize(user, pseudonym: str) -> int:
    """Rewrite the audit log's labels and reasons that name ``user`` to ``pseudonym``;
    the number of entries rewritten. Only inside the deletion's transaction."""
    names = _names(user)
    if not names:
        return 0
    naming = Q()
    for name in names:
        naming |= Q(target_label__icontains=name) | Q(reason__icontains=name)
    rows = list(ModerationAction._base_manager.filter(naming).values_list("pk", "target_label", "reason"))
    if not rows:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL p2pcommons.erasure = 'on'")
        for pk, label, reason in rows:
            for name in names:
                label = _replace(label, name, pseudonym)
                reason = _replace(reason, name, pseudonym)
            # The base manager: the model's own manager refuses every update.
            ModerationAction._base_manager.filter(pk=pk).update(target_label=label[:LABEL_MAX_LENGTH], reason=reason)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL p2pcommons.erasure = 'off'")
    return len(rows)


def _replace(text: str, name: str, pseudonym: str) -> str:
    lowered, needle = text.lower(), name.lower()
    out, start = [], 0
    while (at := lowered.find(needle, start)) >= 0:
        out.append(text[start:at])
        out.append(pseudonym)
        start = at + len(name)
    out.append(text[start:])
    return "".join(out)


def erase(user, pseudonym: str) -> None:
    Flag.objects.filter(reporter=user).update(text="")
    audit_log_pseudonymize(user, pseudonym)


register_eraser("moderation", erase=erase, order=40)
