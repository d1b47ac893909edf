from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ToolsConfig(AppConfig):
    name = "apps.tools"
    label = "tools"
    verbose_name = gettext_lazy("Tool sharing")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.peers.blueprints import register_blueprint

        from .blueprint import BLUEPRINT

        register_blueprint(BLUEPRINT)
        _forget_cached_categories_when_they_change()
        from apps.moderation.registry import register_moderatable
        from apps.notifications.kinds import register_kind
        from apps.peers.sections import CommunitySection, register_community_section
        from apps.reputation.registry import register_exchange

        from .models import Reservation, Tool

        register_kind("tools.requested", label=gettext_lazy("Someone asks to borrow your tool"), default="immediate")
        register_kind(
            "tools.decided", label=gettext_lazy("A tool loan was approved, declined or cancelled"), default="immediate"
        )
        register_kind(
            "tools.reminder",
            label=gettext_lazy("Reminders about pickups, returns and overdue loans"),
            default="immediate",
        )
        register_kind(
            "tools.waitlist", label=gettext_lazy("A window you waited for is free for you"), default="immediate"
        )
        register_moderatable(
            Tool,
            author="owner",
            community="community",
            noun="tool listing",
            on_visibility_change=_offer_freed_windows,
        )
        register_exchange(
            Reservation,
            domain="tools",
            parties=("tool__owner", "borrower"),
            completed_at="returned_at",
            community="tool__community",
        )
        from . import federation

        federation.register()
        register_community_section(
            CommunitySection(
                key="tools",
                template="tools/_community_section.html",
                first_step="tools/_community_first_step.html",
                load=_community_tools,
                order=10,
            )
        )


def _community_tools(*, user, community, limit: int) -> list:
    from .selectors import tools_search

    return list(tools_search(user=user, community_id=community.pk)[:limit])


def _offer_freed_windows(tool) -> None:
    """A restored listing offers the windows that freed while it was hidden; neighbour
    communities on other servers see it withdrawn while hidden and back once shown."""
    from apps.federation.services import listing_changed

    listing_changed(obj=tool)
    if not tool.is_hidden:
        from .services import waitlist_offer_next

        waitlist_offer_next(tool=tool)


def _forget_cached_categories_when_they_change() -> None:
    """The browse filter's category choices and its rendered fields are cached
    (selectors.category_choices, filter_fields.filter_fields_html): a category or a community saved
    or deleted drops them."""
    from django.db.models.signals import post_delete, post_save

    from .models import Category
    from .selectors import forget_category_choices

    post_save.connect(forget_category_choices, sender=Category, dispatch_uid="tools.category_choices.save")
    post_delete.connect(forget_category_choices, sender=Category, dispatch_uid="tools.category_choices.delete")
    from apps.peers.models import Community

    from .selectors import forget_filter_fields

    post_save.connect(forget_filter_fields, sender=Community, dispatch_uid="tools.filter_fields.community_save")
    post_delete.connect(forget_filter_fields, sender=Community, dispatch_uid="tools.filter_fields.community_delete")
