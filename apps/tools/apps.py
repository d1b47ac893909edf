from django.apps import AppConfig


class ToolsConfig(AppConfig):
    name = "apps.tools"
    label = "tools"
    verbose_name = "Tool sharing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.moderation.registry import register_moderatable
        from apps.notifications.kinds import register_kind
        from apps.reputation.registry import register_exchange

        from .models import Reservation, Tool

        register_kind("tools.requested", label="Someone asks to borrow your tool", default="immediate")
        register_kind("tools.decided", label="A tool loan was approved, declined or cancelled", default="immediate")
        register_kind("tools.reminder", label="Reminders about pickups, returns and overdue loans", default="immediate")
        register_kind("tools.waitlist", label="A window you waited for is free for you", default="immediate")
        register_moderatable(Tool, author="owner", community="community", noun="tool listing")
        register_exchange(
            Reservation,
            domain="tools",
            parties=("tool__owner", "borrower"),
            completed_at="returned_at",
            community="tool__community",
        )
