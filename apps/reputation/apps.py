from django.apps import AppConfig


class ReputationConfig(AppConfig):
    name = "apps.reputation"
    label = "reputation"
    verbose_name = "Reviews and reputation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.moderation.registry import register_moderatable
        from apps.notifications.kinds import register_kind

        from .models import Review
        from .selectors import readable_reviews
        from .services import trust_recompute_on_commit

        register_kind("reputation.invited", label="An exchange is complete: review it", default="immediate")
        # A hidden review vanishes from lists, profiles and the API. It stops counting
        # towards its subject's trust score once an organizer decides (a review hidden
        # automatically by reports still counts); recomputed when it is hidden or restored.
        register_moderatable(
            Review,
            author="author",
            subject="subject",
            community="community",
            noun="review",
            readable=lambda reviews, user: readable_reviews(reviews, viewer=user),
            on_visibility_change=lambda review: trust_recompute_on_commit(user_ids=[review.subject_id]),
        )
