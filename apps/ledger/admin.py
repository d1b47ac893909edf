"""Read-only ledger in the admin. Organizers (their communities only) may reverse a
transfer or change an account's limit, each through the service, each recorded."""

from __future__ import annotations

from django import forms
from django.contrib import admin
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

from . import services
from .models import Account, Entry, LimitChange, Transfer


class LimitForm(forms.Form):
    limit = forms.DecimalField(
        max_digits=12, decimal_places=2, max_value=0, help_text=gettext_lazy("Zero or below, e.g. -20.")
    )
    reason = forms.CharField(max_length=200)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=200, help_text=gettext_lazy("Recorded in the reversing transfer's memo."))


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    community_path = "community"
    list_display = ("holder", "community", "balance_shown", "limit_shown")
    list_filter = ("currency", ("community", ScopedCommunityFilter))
    search_fields = ("owner__profile__display_name", "name")
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
            apply=lambda account, **data: services.account_set_limit(account=account, actor=request.user, **data),
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
