from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class CodesignConfig(AppConfig):
    name = "apps.codesign"
    label = "codesign"
    verbose_name = gettext_lazy("Co-design projects")
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
        from .models import Comment, Idea, Proposal, Volunteer

        register_kind(
            "codesign.phase", label=gettext_lazy("Design challenges you follow: a new phase"), default="immediate"
        )
        register_kind(
            "codesign.proposal",
            label=gettext_lazy("Design proposals: new ones, and answers to yours"),
            default="immediate",
        )
        register_kind(
            "codesign.comment", label=gettext_lazy("Comments on design challenges you follow"), default="digest"
        )
        register_kind(
            "codesign.task", label=gettext_lazy("Building a design: your tasks and hours"), default="immediate"
        )
        register_exchange(
            Volunteer,
            domain="codesign",
            parties=("confirmed_by", "member"),
            completed_at="confirmed_at",
            community="task__project__challenge__community",
        )
        register_moderatable(Idea, author="author", community="challenge__community", noun="idea")
        register_moderatable(
            Proposal,
            author="author",
            community="challenge__community",
            noun="design proposal",
            readable=selectors.proposals_readable,
        )
        register_moderatable(Comment, author="author", community="challenge__community", noun="comment")
        register_community_section(
            CommunitySection(
                key="codesign",
                template="codesign/_community_section.html",
                first_step="codesign/_community_first_step.html",
                load=_community_challenges,
                order=40,
            )
        )


def _community_challenges(*, user, community, limit: int) -> list:
    from .views.community import community_challenges

    return community_challenges(user=user, community=community, limit=limit)
