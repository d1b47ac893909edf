from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class SkillsConfig(AppConfig):
    name = "apps.skills"
    label = "skills"
    verbose_name = gettext_lazy("Skill swap")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.peers.blueprints import register_blueprint

        from .blueprint import BLUEPRINT

        register_blueprint(BLUEPRINT)
        from apps.moderation.registry import register_moderatable
        from apps.notifications.kinds import register_kind
        from apps.peers.sections import CommunitySection, register_community_section
        from apps.reputation.registry import register_exchange

        from . import selectors
        from .models import Offer, Request, Seat, Session

        register_kind(
            "skills.match", label=gettext_lazy("A good match for your skill offer or request"), default="digest"
        )
        register_kind(
            "skills.session",
            label=gettext_lazy("Skill sessions: proposed, agreed, cancelled, confirmed"),
            default="immediate",
        )
        register_exchange(
            Seat,
            domain="skills",
            parties=("session__helper", "learner"),
            completed_at="completed_at",
            community="session__community",
        )
        register_moderatable(
            Offer,
            author="member",
            community="community",
            noun="skill offer",
            readable=selectors.listings_readable,
            on_visibility_change=_rematch,
        )
        register_moderatable(
            Request,
            author="member",
            community="community",
            noun="skill request",
            readable=selectors.listings_readable,
            on_visibility_change=_rematch,
        )
        register_moderatable(
            Session,
            author="helper",
            community="community",
            noun="skill session",
            readable=selectors.sessions_readable,
        )
        from . import federation

        federation.register()
        register_community_section(
            CommunitySection(
                key="skills",
                template="skills/_community_section.html",
                first_step="skills/_community_first_step.html",
                load=_community_offers,
                order=20,
            )
        )


def _community_offers(*, user, community, limit: int) -> list:
    from .models import Offer
    from .selectors import listings_search

    return list(listings_search(model=Offer, user=user, community_id=community.pk)[:limit])


def _rematch(listing) -> None:
    """A hidden offer or request leaves matching at once; a restored one is matched again.
    Neighbour communities on other servers see it withdrawn while hidden."""
    from apps.federation.services import listing_changed

    from .services import listing_visibility_changed

    listing_changed(obj=listing)
    listing_visibility_changed(listing=listing)
