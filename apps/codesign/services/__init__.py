"""The co-design exchange's writes, by sub-domain (see docs/DESIGN.md, "How to add an exchange")."""

from .building import budget_spend, fund, task_create, task_join, volunteer_confirm, volunteer_leave
from .challenges import (
    challenge_create,
    challenge_follow,
    challenge_step,
    challenge_unfollow,
    challenges_advance_due,
)
from .photos import challenge_photo_add, proposal_photo_add
from .proposals import (
    comment_post,
    idea_plus_one,
    idea_post,
    proposal_add_coauthor,
    proposal_answer,
    proposal_create,
    proposal_edit,
    proposal_publish_answer,
    proposal_submit,
    proposal_withdraw,
)
from .voting import Result, ballot_of, budget_left, results, results_publish, totals_visible, vote_set

__all__ = [
    "Result",
    "ballot_of",
    "budget_left",
    "budget_spend",
    "challenge_create",
    "challenge_follow",
    "challenge_photo_add",
    "challenge_step",
    "challenge_unfollow",
    "challenges_advance_due",
    "comment_post",
    "fund",
    "idea_plus_one",
    "idea_post",
    "proposal_add_coauthor",
    "proposal_answer",
    "proposal_create",
    "proposal_edit",
    "proposal_photo_add",
    "proposal_publish_answer",
    "proposal_submit",
    "proposal_withdraw",
    "results",
    "results_publish",
    "task_create",
    "task_join",
    "totals_visible",
    "volunteer_confirm",
    "volunteer_leave",
    "vote_set",
]
