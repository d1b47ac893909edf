from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class SolarConfig(AppConfig):
    name = "apps.solar"
    label = "solar"
    verbose_name = gettext_lazy("Solar exchange")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.peers.blueprints import register_blueprint

        from .blueprint import BLUEPRINT

        register_blueprint(BLUEPRINT)
        from apps.notifications.kinds import register_kind
        from apps.peers.sections import CommunitySection, register_community_section
        from apps.reputation.registry import register_exchange

        from .models import TradingDay

        register_kind("solar.cleared", label=gettext_lazy("Energy market: how your orders did"), default="immediate")
        register_kind(
            "solar.settled", label=gettext_lazy("Energy market: deliveries paid and received"), default="digest"
        )
        register_exchange(
            TradingDay,
            domain="solar",
            parties=("seller", "buyer"),
            completed_at="completed_at",
            community="community",
        )
        register_community_section(
            CommunitySection(
                key="solar",
                template="solar/_community_section.html",
                first_step="solar/_community_first_step.html",
                load=_community_slots,
                order=30,
            )
        )


def _community_slots(*, user, community, limit: int) -> list:
    from .views.community import community_slots

    return community_slots(user=user, community=community, limit=limit)
