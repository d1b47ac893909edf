"""Read-only ledger in the admin. Organizers (their communities only) may reverse a
transfer or change an account's limit, each through the service, each recorded."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.peers.admin_scoping import (
    CommunityScopedAdminMixin,
    ReadOnlyAdminMixin,
    ScopedCommunityFilter,
    confirm_and_apply,
    when_column,
)
from p2pcommons.humanize import format_amount

from . import checkpoint, clearing, log, services, witness
from .models import (
    Account,
    Checkpoint,
    ClearingCheck,
    Entry,
    LimitChange,
    LogAlarm,
    LogWitness,
    Transfer,
    WitnessedLog,
    WitnessView,
)


class LimitForm(forms.Form):
    limit = forms.DecimalField(
        max_digits=12, decimal_places=2, max_value=0, help_text=gettext_lazy("Zero or below, e.g. -20.")
    )
    reason = forms.CharField(max_length=200)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=200, help_text=gettext_lazy("Recorded in the reversing transfer's memo."))


class HolderFilter(admin.SimpleListFilter):
    """Members' accounts, the community's own, or clearing accounts with neighbouring communities."""

    title = gettext_lazy("held by")
    parameter_name = "held_by"

    def lookups(self, request, model_admin):
        return (
            ("member", gettext_lazy("a member")),
            ("community", gettext_lazy("the community")),
            ("neighbour", gettext_lazy("a neighbouring community (clearing)")),
        )

    def queryset(self, request, queryset):
        if self.value() == "member":
            return queryset.filter(owner__isnull=False)
        if self.value() == "community":
            return queryset.filter(owner__isnull=True, peer="")
        if self.value() == "neighbour":
            return queryset.exclude(peer="")
        return queryset


def _set_limit(account: Account, actor, *, limit, reason: str) -> Account:
    """A clearing account's limit through ``clearing_set_limit``, any other through ``account_set_limit``."""
    if account.is_clearing:
        return clearing.clearing_set_limit(
            community=account.community,
            peer_uri=account.peer,
            currency=account.currency,
            limit=limit,
            actor=actor,
            reason=reason,
        )
    return services.account_set_limit(account=account, actor=actor, limit=limit, reason=reason)


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    community_path = "community"
    list_display = ("holder", "community", "balance_shown", "limit_shown")
    list_filter = ("currency", HolderFilter, ("community", ScopedCommunityFilter))
    search_fields = ("owner__profile__display_name", "name", "peer_name")
    list_select_related = ("owner__profile", "community")
    actions = ["change_limit"]

    @admin.display(description=gettext_lazy("holder"))
    def holder(self, obj: Account) -> str:
        return obj.holder_name

    @admin.display(description=gettext_lazy("balance"), ordering="balance")
    def balance_shown(self, obj: Account) -> str:
        return format_amount(obj.balance, obj.currency)

    @admin.display(description=gettext_lazy("limit"), ordering="limit")
    def limit_shown(self, obj: Account) -> str:
        return format_amount(obj.limit, obj.currency)

    @admin.action(description=gettext_lazy("Change the credit limit of the selected accounts"))
    def change_limit(self, request, queryset):
        return confirm_and_apply(
            self,
            request,
            queryset,
            form_class=LimitForm,
            title=_("Change the credit limit"),
            action="change_limit",
            apply=lambda account, **data: _set_limit(account, request.user, **data),
            done=_("Changed the limit of {count} account(s)."),
        )


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    community_path = "community"
    # What an organizer looks for first, readable at 1280 px beside the filters: when,
    # who to whom, how much and why. The community is a filter, not a column.
    when = when_column("created_at", gettext_lazy("when"))
    list_display = (when, "source_holder", "target_holder", "amount_shown", "memo", "kind")
    list_display_links = (when,)
    list_filter = ("kind", "currency", ("community", ScopedCommunityFilter))
    search_fields = ("memo", "source__owner__profile__display_name", "target__owner__profile__display_name")
    list_select_related = ("community", "source__owner__profile", "target__owner__profile")
    date_hierarchy = "created_at"
    actions = ["reverse_transfers"]

    @admin.display(description=gettext_lazy("from"))
    def source_holder(self, obj: Transfer) -> str:
        return obj.source.holder_name

    @admin.display(description=gettext_lazy("to"))
    def target_holder(self, obj: Transfer) -> str:
        return obj.target.holder_name

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_shown(self, obj: Transfer) -> str:
        return format_amount(obj.amount, obj.currency)

    @admin.action(description=gettext_lazy("Reverse the selected transfers"))
    def reverse_transfers(self, request, queryset):
        return confirm_and_apply(
            self,
            request,
            queryset,
            form_class=ReasonForm,
            title=_("Reverse transfers"),
            action="reverse_transfers",
            apply=lambda transfer, **data: services.transfer_reverse(transfer=transfer, actor=request.user, **data),
            done=_("Reversed {count} transfer(s)."),
        )


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    community_path = "community"
    list_display = ("seq", "community", "account", "amount_shown", "balance_after_shown", "short_hash")
    list_filter = (("community", ScopedCommunityFilter),)
    list_select_related = ("community", "account__owner__profile", "account__community")
    search_fields = ("hash",)

    @admin.display(description=gettext_lazy("hash"))
    def short_hash(self, obj: Entry) -> str:
        return obj.hash[:12]

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_shown(self, obj: Entry) -> str:
        return format_amount(obj.amount, obj.account.currency)

    @admin.display(description=gettext_lazy("balance after"), ordering="balance_after")
    def balance_after_shown(self, obj: Entry) -> str:
        return format_amount(obj.balance_after, obj.account.currency)


@admin.register(LimitChange)
class LimitChangeAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    community_path = "account__community"
    when = when_column("created_at", gettext_lazy("when"))
    list_display = (when, "account", "old_limit_shown", "new_limit_shown", "actor", "reason")
    list_display_links = (when,)
    list_select_related = ("account__owner__profile", "account__community", "actor__profile")
    date_hierarchy = "created_at"

    @admin.display(description=gettext_lazy("old limit"), ordering="old_limit")
    def old_limit_shown(self, obj: LimitChange) -> str:
        return format_amount(obj.old_limit, obj.account.currency)

    @admin.display(description=gettext_lazy("new limit"), ordering="new_limit")
    def new_limit_shown(self, obj: LimitChange) -> str:
        return format_amount(obj.new_limit, obj.account.currency)


# --- The Merkle log and its witnesses (apps/ledger/log.py, witness.py) -----------------------------


def _verifier_or_error(vkey: str) -> checkpoint.Verifier:
    try:
        return checkpoint.Verifier.from_vkey(vkey.strip())
    except checkpoint.NoteError:
        raise forms.ValidationError(
            _("This is not a public key. Ask the other community for the key their ledger page shows."),
            code="invalid",
        ) from None


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    community_path = "community"
    when = when_column("created_at", gettext_lazy("when"))
    list_display = (when, "community", "number", "size", "witnessed_by")
    list_display_links = (when,)
    list_filter = (("community", ScopedCommunityFilter),)
    list_select_related = ("community",)
    fields = ("community", "number", "size", "note", "signed_note_shown", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(witnesses=Count("cosignatures"))

    @admin.display(description=gettext_lazy("checked by other communities"), ordering="witnesses")
    def witnessed_by(self, obj: Checkpoint) -> int:
        return obj.witnesses

    @admin.display(description=gettext_lazy("with the other communities' signatures"))
    def signed_note_shown(self, obj: Checkpoint) -> str:
        return log.signed_note(obj)


class LogWitnessForm(forms.ModelForm):
    class Meta:
        model = LogWitness
        fields = ("community", "vkey")
        help_texts = {
            "vkey": gettext_lazy(
                "The public key of the community that checks your ledger, as their ledger page shows it."
            ),
        }

    def clean_vkey(self) -> str:
        verifier = _verifier_or_error(self.cleaned_data["vkey"])
        community = self.cleaned_data.get("community") or getattr(self.instance, "community", None)
        taken = LogWitness.objects.filter(community=community, name=verifier.name).exclude(pk=self.instance.pk)
        if community is not None and taken.exists():
            raise forms.ValidationError(_("This community already accepts a witness with this key's name."))
        self.instance.name = verifier.name
        return verifier.vkey


@admin.register(LogWitness)
class LogWitnessAdmin(CommunityScopedAdminMixin, admin.ModelAdmin):
    """Witnesses whose signatures your ledger accepts and shows beside its own."""

    community_path = "community"
    organizer_can_add = True
    organizer_can_delete = True
    form = LogWitnessForm
    list_display = ("name", "community", "witness", "created_at")
    list_filter = (("community", ScopedCommunityFilter),)
    list_select_related = ("community", "witness")

    def get_readonly_fields(self, request, obj=None):
        return ("name", "witness") if obj is None else ("community", "name", "witness")


class WitnessedLogForm(forms.ModelForm):
    url = forms.URLField(
        required=False,
        assume_scheme="https",
        label=gettext_lazy("where it is published"),
        help_text=gettext_lazy("The address the other server gives (https://...); empty for a community on this site."),
    )

    class Meta:
        model = WitnessedLog
        fields = ("witness", "origin", "log_vkey", "url", "active")
        labels = {
            "witness": gettext_lazy("your community"),
            "origin": gettext_lazy("the other ledger's name"),
            "log_vkey": gettext_lazy("the other ledger's public key"),
        }

    def clean_log_vkey(self) -> str:
        return _verifier_or_error(self.cleaned_data["log_vkey"]).vkey

    def clean_url(self) -> str:
        url = self.cleaned_data.get("url", "")
        if url and not witness.allowed_url(url):
            raise forms.ValidationError(_("The address must start with https://."), code="insecure")
        return url.rstrip("/")

    def clean(self) -> dict:
        cleaned = super().clean()
        origin, vkey = cleaned.get("origin"), cleaned.get("log_vkey")
        if origin and vkey and checkpoint.Verifier.from_vkey(vkey).name != origin:
            self.add_error("log_vkey", _("This key is not the key of the ledger named above."))
        return cleaned


@admin.register(WitnessedLog)
class WitnessedLogAdmin(CommunityScopedAdminMixin, admin.ModelAdmin):
    """The neighbouring ledgers your community checks and signs; switch one off rather than
    delete it (what was checked stays as evidence)."""

    community_path = "witness"
    organizer_can_add = True
    form = WitnessedLogForm
    list_display = ("origin", "witness", "active", "last_size", "checked_at", "last_error")
    list_filter = ("active", ("witness", ScopedCommunityFilter))
    list_select_related = ("witness",)

    def get_readonly_fields(self, request, obj=None):
        # What was checked was checked against this name and key: a new neighbour is a new row.
        fixed = ("witness", "origin", "log_vkey") if obj is not None else ()
        return (*fixed, "last_size", "checked_at", "last_error")


@admin.register(WitnessView)
class WitnessViewAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    community_path = "witnessed_log__witness"
    when = when_column("created_at", gettext_lazy("when"))
    list_display = (when, "witnessed_log", "size")
    list_display_links = (when,)
    list_select_related = ("witnessed_log__witness",)
    fields = ("witnessed_log", "size", "note", "created_at")
    readonly_fields = fields


@admin.register(LogAlarm)
class LogAlarmAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Proof that a neighbouring ledger showed two histories that can't both be true."""

    community_path = "witnessed_log__witness"
    when = when_column("created_at", gettext_lazy("when"))
    list_display = (when, "kind", "witnessed_log", "size")
    list_display_links = (when,)
    list_filter = ("kind",)
    list_select_related = ("witnessed_log__witness",)
    fields = ("witnessed_log", "kind", "size", "detail", "seen_note", "new_note", "created_at")
    readonly_fields = fields


@admin.register(ClearingCheck)
class ClearingCheckAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Each comparison of a clearing account with the neighbouring community's side of it."""

    community_path = "community"
    when = when_column("checked_at", gettext_lazy("when"))
    list_display = (when, "peer_name", "currency", "ok", "our_balance_shown", "their_balance_shown", "first_problem")
    list_display_links = (when,)
    list_filter = ("ok", "currency", ("community", ScopedCommunityFilter))
    list_select_related = ("community",)
    search_fields = ("peer_name", "peer")
    date_hierarchy = "checked_at"
    fields = (
        "community",
        "peer_name",
        "peer",
        "currency",
        "checked_at",
        "ok",
        "our_balance_shown",
        "their_balance_shown",
        "problems_shown",
        "alerted_at",
    )
    readonly_fields = fields

    @admin.display(description=gettext_lazy("our balance"), ordering="our_balance")
    def our_balance_shown(self, obj: ClearingCheck) -> str:
        return format_amount(obj.our_balance, obj.currency)

    @admin.display(description=gettext_lazy("their balance"), ordering="their_balance")
    def their_balance_shown(self, obj: ClearingCheck) -> str:
        return "-" if obj.their_balance is None else format_amount(obj.their_balance, obj.currency)

    @admin.display(description=gettext_lazy("what differs"))
    def first_problem(self, obj: ClearingCheck) -> str:
        problems = _problems(obj)
        return str(clearing.describe(problems[0], obj.currency)) if problems else "-"

    @admin.display(description=gettext_lazy("what differs"))
    def problems_shown(self, obj: ClearingCheck) -> str:
        problems = _problems(obj)
        lines = [str(clearing.describe(problem, obj.currency)) for problem in problems]
        count = obj.detail.get("problem_count", len(problems)) if isinstance(obj.detail, dict) else len(problems)
        if count > len(lines):
            lines.append(_("... and %(count)s more.") % {"count": count - len(lines)})
        if not lines:
            return _("Both sides match.")
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))


def _problems(check: ClearingCheck) -> list[dict]:
    problems = check.detail.get("problems") if isinstance(check.detail, dict) else None
    return [p for p in problems if isinstance(p, dict)] if isinstance(problems, list) else []
