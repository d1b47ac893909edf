from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ReputationConfig(AppConfig):
    name = "apps.reputation"
    label = "reputation"
    verbose_name = gettext_lazy("Reviews and reputation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.moderation.registry import register_moderatable
        from apps.notifications.kinds import register_kind

        from .models import Review
        from .selectors import readable_reviews
        from .services import trust_recompute_on_commit

        register_kind(
            "reputation.invited", label=gettext_lazy("An exchange is complete: review it"), default="immediate"
        )
        # A hidden review vanishes from lists, profiles and the API. It stops counting
        # towards its subject's trust score once an organizer decides (a review hidden
        # automatically by reports still counts); recomputed when it is hidden or restored.
        register_moderatable(
            Review,
            author="author",
            subject="subject",
            community="community",
            noun=gettext_lazy("review"),
            readable=lambda reviews, user: readable_reviews(reviews, viewer=user),
            on_visibility_change=lambda review: trust_recompute_on_commit(user_ids=[review.subject_id]),
        )
