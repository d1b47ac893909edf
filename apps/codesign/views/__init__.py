"""Browser pages of co-design challenges: the list and a challenge's page (brief,
pictures, phase timeline, ideas, comments), proposals (gallery, form, page, answer),
the ballot and the results, and the project board.

Every write goes through ``services``; what a service refuses is shown on the form
(with what was typed) or as a message, never as an error page. The buttons are those
the machines of ``apps.codesign.transitions`` allow now, each behind a confirmation
page. One module per part: ``challenges``, ``proposals``, ``voting``, ``building``,
``community`` (the community page's section); this package re-exports the views
``urls.py`` routes to.
"""

from .building import budget_spend, project_board, task_create, task_join, volunteer_step
from .challenges import (
    challenge_create,
    challenge_detail,
    challenge_follow,
    challenge_list,
    challenge_photo_add,
    challenge_step,
    comment_post,
    idea_plus_one,
    idea_post,
)
from .proposals import (
    proposal_answer,
    proposal_coauthor_add,
    proposal_create,
    proposal_detail,
    proposal_edit,
    proposal_gallery,
    proposal_photo_add,
    proposal_step,
)
from .voting import ballot, results

__all__ = [
    "ballot",
    "budget_spend",
    "challenge_create",
    "challenge_detail",
    "challenge_follow",
    "challenge_list",
    "challenge_photo_add",
    "challenge_step",
    "comment_post",
    "idea_plus_one",
    "idea_post",
    "project_board",
    "proposal_answer",
    "proposal_coauthor_add",
    "proposal_create",
    "proposal_detail",
    "proposal_edit",
    "proposal_gallery",
    "proposal_photo_add",
    "proposal_step",
    "results",
    "task_create",
    "task_join",
    "volunteer_step",
]
