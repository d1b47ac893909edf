"""Deleting an account: what is cancelled, what is erased, what stays, in one transaction.

``account_delete`` is the one way an account is deleted (the page, the API). In order,
inside ONE transaction (all or nothing; the notifications it writes go out on commit):

1. the checks: only the member themself; not the last active organizer of a community
   that still has other active members ("hand over first"); a balance below zero only
   once the member confirmed they know it stays on record;
2. a stable pseudonym ("Former neighbor 7KQ2"), kept in ``Erasure``;
3. each app's ``cancel(user)`` (``apps/<app>/erasure.py``): open commitments with others
   are called off through that app's own services, so the other parties are told as
   usual;
4. each app's ``erase(user, pseudonym)``: free texts removed (or replaced by "removed by
   its author" where others replied or voted), private data blanked, records kept;
5. the account itself: sign-in data, profile, sessions, own notifications and exports;
6. a sweep of every text column of every table for the old name, email, phone and
   address, replaced by the pseudonym (append-only records excepted: the ledger's memos
   and the moderation log are part of what cannot be rewritten; see docs/privacy.md).

The ledger is never touched: accounts, transfers and entries stay, so every community's
chain still verifies and balances still sum to zero; the account's owner simply reads as
the pseudonym.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.apps import apps as django_apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.peers.models import Community, Profile, User
from apps.peers.selectors import active_community_ids, active_members_of, community_ids_of, organizers_of
from p2pcommons.db import AppendOnlyModel
from p2pcommons.errors import RuleViolation

from .models import Erasure, ExportJob
from .registry import erasers

logger = logging.getLogger(__name__)

PSEUDONYM_PREFIX = "Former neighbor"
# Unambiguous letters and digits (no 0/O, 1/I/L): read aloud or copied without mistakes.
PSEUDONYM_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PSEUDONYM_LENGTH = 4
# What a text that others answered becomes. Stored, so it is stored in English (like a
# name) and marked for the catalogs so a template may show it translated.
REMOVED_BY_AUTHOR = gettext_noop("removed by its author")
CONFIRM_WORD = "DELETE"


# --- previews, registered by the apps beside their erasers ------------------------------

Preview = dict[str, list[str]]  # {"cancelled": [...], "kept": [...]}: sentences for the member
_PREVIEWS: dict[str, Callable[[Any], Preview]] = {}


def register_preview(app: str, preview: Callable[[Any], Preview]) -> None:
    """``preview(user) -> {"cancelled": [sentence, ...], "kept": [sentence, ...]}``: what
    deleting the account would call off and what would stay, in ``app`` (registered from
    ``apps/<app>/erasure.py`` next to ``register_eraser``)."""
    _PREVIEWS[app] = preview


@dataclass(frozen=True)
class Balance:
    community: str
    currency: str
    balance: Decimal

    def as_data(self) -> dict:
        return {"community": self.community, "currency": self.currency, "balance": str(self.balance)}


@dataclass
class DeletionPreview:
    """What the "Delete my account" page and API show before anything happens."""

    cancelled: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    negative_balances: list[Balance] = field(default_factory=list)
    blocking_communities: list[str] = field(default_factory=list)

    @property
    def can_delete(self) -> bool:
        return not self.blocking_communities


def negative_balances(user: User) -> list[Balance]:
    """The member's ledger accounts below zero (they stay on record after deletion)."""
    from apps.ledger.models import Account

    rows = (
        Account.objects.filter(owner=user, balance__lt=0)
        .select_related("community")
        .order_by("community__name", "currency")
    )
    return [Balance(community=a.community.name, currency=a.currency, balance=a.balance) for a in rows]


def last_organizer_of(user: User) -> list[Community]:
    """Communities where ``user`` is the only active organizer while other active members
    remain: someone must be handed the community before the account goes."""
    blocking = []
    organized = active_community_ids(user=user, as_organizer=True)
    for community in Community.objects.filter(pk__in=organized).order_by("name"):
        if not any(u.pk != user.pk for u in active_members_of(community_id=community.pk)):
            continue
        if not any(u.pk != user.pk for u in organizers_of(community_id=community.pk)):
            blocking.append(community)
    return blocking


def deletion_preview(user: User) -> DeletionPreview:
    """What deleting ``user``'s account would cancel, what would stay, which balances are
    below zero and which communities must be handed over first. Reads only."""
    preview = DeletionPreview(
        negative_balances=negative_balances(user),
        blocking_communities=[c.name for c in last_organizer_of(user)],
    )
    for app in sorted(_PREVIEWS):
        try:
            said = _PREVIEWS[app](user)
        except Exception:  # a preview must never stop the page; the deletion itself is exact
            logger.exception("Deletion preview of %s failed", app)
            continue
        preview.cancelled.extend(said.get("cancelled", []))
        preview.kept.extend(said.get("kept", []))
    return preview


# --- the deletion ----------------------------------------------------------------------


def _new_pseudonym() -> str:
    """A random "Former neighbor XXXX" no other erasure uses (checked here; the unique
    constraint is the final word, see ``_create_erasure``)."""
    for _attempt in range(50):
        code = "".join(secrets.choice(PSEUDONYM_ALPHABET) for _i in range(PSEUDONYM_LENGTH))
        name = f"{PSEUDONYM_PREFIX} {code}"
        if not Erasure.objects.filter(pseudonym=name).exists():
            return name
    # 31**4 names are far from used up; a longer code if the short ones collide this often.
    return f"{PSEUDONYM_PREFIX} {secrets.token_hex(4).upper()}"


def _create_erasure(user: User) -> Erasure:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Erasure.objects.create(user=user, pseudonym=_new_pseudonym())
        except IntegrityError:
            if Erasure.objects.filter(user_id=user.pk).exists():
                raise RuleViolation(_("This account is already deleted."), code="already_deleted") from None
    raise RuleViolation(_("Please try again in a moment."), code="busy")


def _check_password(user: User, password: str | None) -> None:
    if password is None:
        return
    if user.has_usable_password() and not user.check_password(password):
        raise ValidationError({"password": _("That is not your password.")})


def account_delete(*, user: User, actor: User, confirm_negative: bool = False, password: str | None = None) -> Erasure:
    """Delete ``user``'s account (only ``actor == user``); returns the ``Erasure``.

    Refused (``RuleViolation``) with ``forbidden`` for anyone else, ``already_deleted``,
    ``last_organizer`` (data: ``communities``), ``negative_balance`` without
    ``confirm_negative`` (data: ``balances``). A wrong ``password`` (when given: the page
    and the API always give it) is a ``ValidationError`` on ``password``.

    Locking: SELECT FOR UPDATE on the user's row first, so two deletions at once take
    turns and the second finds the account gone; then each app's own service locks.
    Everything runs in one transaction; notifications are delivered after commit.
    """
    if actor is None or actor.pk != user.pk:
        raise RuleViolation(_("Only the member themself can delete their account."), code="forbidden")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active or Erasure.objects.filter(user_id=user.pk).exists():
            raise RuleViolation(_("This account is already deleted."), code="already_deleted")
        _check_password(user, password)
        blocking = last_organizer_of(user)
        if blocking:
            names = ", ".join(c.name for c in blocking)
            raise RuleViolation(
                _(
                    "You are the last organizer of %(names)s. Make another member an organizer first, "
                    "then delete your account."
                )
                % {"names": names},
                code="last_organizer",
                data={"communities": [c.name for c in blocking]},
            )
        below = negative_balances(user)
        if below and not confirm_negative:
            raise RuleViolation(
                _(
                    "Your balance is below zero. It stays in the community's ledger under your pseudonym; "
                    "confirm that you know this to delete your account."
                ),
                code="negative_balance",
                data={"balances": [b.as_data() for b in below]},
            )
        identity = _identity(user)
        community_ids = list(community_ids_of(user=user))
        erasure = _create_erasure(user)
        erasure.communities.set(community_ids)
        cancelled = 0
        for eraser in erasers():
            if eraser.cancel is not None:
                cancelled += int(eraser.cancel(user) or 0)
        for eraser in erasers():
            if eraser.erase is not None:
                eraser.erase(user, erasure.pseudonym)
        _erase_account(user, erasure.pseudonym)
        sweep(needles=identity, replacement=erasure.pseudonym)
        Erasure.objects.filter(pk=erasure.pk).update(cancelled=cancelled)
        erasure.cancelled = cancelled
    return erasure


def _identity(user: User) -> list[str]:
    """What identified the member in free text: name, email, phone, exact address."""
    profile = Profile.objects.filter(user=user).first()
    needles = [user.email]
    if profile is not None:
        needles += [profile.display_name, profile.phone, profile.exact_address]
    return [n.strip() for n in needles if n and len(n.strip()) >= 3]


def _erase_account(user: User, pseudonym: str) -> None:
    """Sign-in data gone, profile blanked (its name becomes the pseudonym), sessions,
    own export files and jobs deleted."""
    code = pseudonym.rsplit(" ", 1)[-1].lower()
    user.email = f"{code}@deleted.invalid"
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.last_login = None
    user.save()
    user.groups.clear()
    user.user_permissions.clear()

    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        Profile.objects.create(user=user, display_name=pseudonym)
    else:
        avatar = profile.avatar.name if profile.avatar else ""
        Profile.objects.filter(pk=profile.pk).update(
            display_name=pseudonym,
            bio="",
            avatar="",
            neighborhood="",
            approx_latitude=None,
            approx_longitude=None,
            exact_address="",
            phone="",
            language="",
            updated_at=timezone.now(),
        )
        if avatar:
            delete_files_on_commit(profile.avatar.storage, [avatar])
        # Other objects may hold the cached profile: make them read the new name.
        if hasattr(user, "_state") and "profile" in user._state.fields_cache:
            del user._state.fields_cache["profile"]

    if django_apps.is_installed("allauth.account"):
        from allauth.account.models import EmailAddress

        EmailAddress.objects.filter(user=user).delete()
    if django_apps.is_installed("allauth.socialaccount"):
        from allauth.socialaccount.models import SocialAccount

        SocialAccount.objects.filter(user=user).delete()
    _delete_sessions(user)

    jobs = list(ExportJob.objects.filter(user=user).values_list("file", flat=True))
    ExportJob.objects.filter(user=user).delete()
    root = Path(settings.EXPORT_ROOT)
    paths = [root / name for name in jobs if name]
    transaction.on_commit(lambda: _unlink(paths))


_DB_SESSION_ENGINES = ("django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db")


def _delete_sessions(user: User) -> None:
    """Every signed-in session of the member (browser cookies and app tokens alike)."""
    if settings.SESSION_ENGINE not in _DB_SESSION_ENGINES:
        return  # other engines: the changed password hash already ends those sessions
    from django.contrib.sessions.models import Session

    ours = str(user.pk)
    doomed = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        try:
            data = session.get_decoded()
        except Exception:  # noqa: S112 - a session that can't be decoded belongs to no one
            continue
        if str(data.get("_auth_user_id", "")) == ours:
            doomed.append(session.session_key)
    if doomed:
        Session.objects.filter(session_key__in=doomed).delete()


def _unlink(paths: Iterable[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:  # pragma: no cover - a file system error must not undo a deletion
            logger.warning("Could not delete %s", path)


def delete_files_on_commit(storage, names: Iterable[str]) -> None:
    """Delete stored files (avatars, photos) once the deletion has committed: a rolled
    back deletion keeps them."""
    names = [n for n in names if n]
    if not names:
        return

    def delete() -> None:
        for name in names:
            try:
                storage.delete(name)
            except OSError:  # pragma: no cover
                logger.warning("Could not delete stored file %s", name)

    transaction.on_commit(delete)


def file_fields_of(queryset: models.QuerySet, *fields: str) -> tuple[Any, list[str]]:
    """The stored file names of ``fields`` in ``queryset`` and their storage."""
    model = queryset.model
    storage = model._meta.get_field(fields[0]).storage
    names = []
    for row in queryset.values_list(*fields):
        names.extend(n for n in row if n)
    return storage, names


# --- the sweep -------------------------------------------------------------------------

# Tables the sweep leaves alone: sessions (deleted above, their data encoded), Django's
# own catalogues, and the erasure records themselves.
_SKIPPED_TABLES = {"django_session", "django_content_type", "auth_permission", "django_migrations"}
# Other members' own name, phone and address are theirs, even if they happen to be the
# same (two neighbors with one name, housemates at one address).
_SKIPPED_FIELDS = {
    ("peers", "profile", "display_name"),
    ("peers", "profile", "phone"),
    ("peers", "profile", "exact_address"),
}


def _text_fields(model: type[models.Model]) -> tuple[list[str], list[str]]:
    chars, jsons = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key or getattr(f, "choices", None):
            continue
        if (model._meta.app_label, model._meta.model_name, f.name) in _SKIPPED_FIELDS:
            continue
        if isinstance(f, models.JSONField):
            jsons.append(f.attname)
        elif isinstance(f, models.CharField | models.TextField) and not isinstance(f, models.FileField):
            chars.append(f.attname)
    return chars, jsons


def _pattern(needles: list[str]) -> re.Pattern:
    alternatives = sorted({re.escape(n) for n in needles}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def _replace(value: Any, pattern: re.Pattern, replacement: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(replacement, value)
    if isinstance(value, list):
        return [_replace(v, pattern, replacement) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, pattern, replacement) for k, v in value.items()}
    return value


def sweep(*, needles: list[str], replacement: str) -> int:
    """Replace every whole-word occurrence of ``needles`` (case-insensitive) in every text
    and JSON column of every table by ``replacement``; returns the rows changed.

    Append-only records (ledger transfers and entries, the moderation log) are skipped:
    they can't be rewritten, by design. One query per table finds the candidate rows.
    """
    needles = [n for n in needles if n]
    if not needles:
        return 0
    # JSON text may hold non-ASCII characters escaped (\u00eb): look for both spellings.
    json_needles = set(needles) | {json.dumps(n)[1:-1] for n in needles}
    changed = 0
    for model in django_apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in _SKIPPED_TABLES or model is Erasure:
            continue
        if issubclass(model, AppendOnlyModel):
            continue
        chars, jsons = _text_fields(model)
        if not chars and not jsons:
            continue
        condition = Q()
        queryset = model._base_manager.all()
        for name in chars:
            for needle in needles:
                condition |= Q(**{f"{name}__icontains": needle})
        for name in jsons:
            alias = f"_swept_{name}"
            queryset = queryset.annotate(**{alias: Cast(name, TextField())})
            for needle in json_needles:
                condition |= Q(**{f"{alias}__icontains": needle})
        changed += rewrite_names(
            queryset.filter(condition), fields=[*chars, *jsons], needles=needles, replacement=replacement
        )
    return changed


def rewrite_names(queryset: models.QuerySet, *, fields: Iterable[str], needles: list[str], replacement: str) -> int:
    """In the rows of ``queryset``, replace whole-word occurrences of ``needles`` in
    ``fields`` (text, or JSON whose strings are rewritten) by ``replacement``."""
    needles = [n for n in needles if n and len(n) >= 3]
    if not needles:
        return 0
    fields = list(fields)
    pattern = _pattern(needles)
    meta = queryset.model._meta
    changed = 0
    for row in queryset.only("pk", *fields).iterator():
        updates = {}
        for name in fields:
            value = getattr(row, name)
            new = _replace(value, pattern, replacement)
            if new != value:
                updates[name] = new[: meta.get_field(name).max_length] if _bounded(meta, name, new) else new
        if updates:
            queryset.model._base_manager.filter(pk=row.pk).update(**updates)
            changed += 1
    return changed


def _bounded(meta, name: str, value: Any) -> bool:
    max_length = getattr(meta.get_field(name), "max_length", None)
    return isinstance(value, str) and max_length is not None and len(value) > max_length


# --- helpers the apps' erasers share -----------------------------------------------------


def attempt(call: Callable[[], Any]) -> bool:
    """Run one app service that calls off a commitment, in its own savepoint: True when it
    did, False when its rules refused (e.g. the session has started): then it stays."""
    try:
        with transaction.atomic():
            call()
        return True
    except (RuleViolation, ValidationError):
        return False
