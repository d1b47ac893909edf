from django.apps import AppConfig


class SkillsConfig(AppConfig):
    name = "apps.skills"
    label = "skills"
    verbose_name = "Skill swap"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.notifications.kinds import register_kind
        from apps.reputation.registry import register_exchange

        from .models import Seat

        register_kind("skills.match", label="A good match for your skill offer or request", default="digest")
        register_kind(
            "skills.session", label="Skill sessions: proposed, agreed, cancelled, confirmed", default="immediate"
        )
        register_exchange(
            Seat,
            domain="skills",
            parties=("session__helper", "learner"),
            completed_at="completed_at",
            community="session__community",
        )
