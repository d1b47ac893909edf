"""Browser forms of co-design challenges: shape only; the rules live in ``services``.

Phase ends are typed in local time (the browser's date-and-time picker) and handed to
the services timezone-aware; credits and hours as ``Decimal``. A service's refusal lands
on the field it names, or on top of the form (``AccessibleErrorsMixin``).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import QuerySet
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from apps.peers.models import Community, User
from apps.peers.selectors import active_community_ids
from apps.skills.forms import SkillChoiceField, SkillMultipleChoiceField, skills_of_communities
from apps.skills.models import Skill
from apps.tools.models import Tool
from p2pcommons.forms import AccessibleErrorsMixin, DateTimeLocalInput

from .models import MAX_DOTS, Challenge, ChallengePhoto, Project, ProposalPhoto

MARKDOWN_HELP = gettext_lazy(
    "You can format with Markdown: **bold**, *italic*, a blank line between paragraphs, "
    "“- ” at the start of a line for a list, and [words](https://example.org) for a link."
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def decimal_input(step: str) -> forms.NumberInput:
    return forms.NumberInput(attrs={"step": step, "inputmode": "decimal", "min": "0"})


class CodesignForm(AccessibleErrorsMixin, forms.Form):
    # Forms sharing one page need their own ids: set ``field_ids`` to "idea_%s" etc.
    field_ids = "id_%s"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", self.field_ids)
        super().__init__(*args, **kwargs)


def organized_communities(user: User) -> QuerySet[Community]:
    """The communities where ``user`` is an active organizer, by name."""
    return Community.objects.filter(pk__in=active_community_ids(user=user, as_organizer=True)).order_by("name")


class ChallengeForm(CodesignForm):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(), label=gettext_lazy("Community"), empty_label=None
    )
    title = forms.CharField(
        max_length=120, label=gettext_lazy("Title"), help_text=gettext_lazy("E.g. “A bench for the courtyard”.")
    )
    space = forms.CharField(
        max_length=200,
        label=gettext_lazy("Where is the space?"),
        help_text=gettext_lazy("E.g. “the courtyard behind number 12”."),
    )
    brief = forms.CharField(
        max_length=5000,
        label=gettext_lazy("What does the space need?"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=MARKDOWN_HELP,
    )
    constraints = forms.CharField(
        max_length=2000,
        required=False,
        label=gettext_lazy("What must every design respect? (optional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("E.g. “Keep the path to the bins free.”"),
    )
    ideas_until = forms.DateTimeField(label=gettext_lazy("Ideas close on"), widget=DateTimeLocalInput())
    proposals_until = forms.DateTimeField(label=gettext_lazy("Proposals close on"), widget=DateTimeLocalInput())
    voting_until = forms.DateTimeField(
        label=gettext_lazy("Voting closes on"),
        widget=DateTimeLocalInput(),
        help_text=gettext_lazy("Then the winning design is built."),
    )
    budget = forms.DecimalField(
        required=False,
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
        label=gettext_lazy("Budget in credits (optional)"),
        widget=decimal_input("0.01"),
        help_text=gettext_lazy(
            "What the co-design fund may spend on the winners. Leave empty for no budget: then one design wins."
        ),
    )
    method = forms.ChoiceField(
        choices=Challenge.Method.choices,
        initial=Challenge.Method.DOTS,
        widget=forms.RadioSelect,
        label=gettext_lazy("How members vote"),
        help_text=gettext_lazy(
            "Dot voting: each member spreads a few dots. Approval: a yes for each design they like."
        ),
    )
    dots = forms.IntegerField(
        min_value=1,
        max_value=MAX_DOTS,
        initial=5,
        label=gettext_lazy("Dots per member"),
        help_text=gettext_lazy("Dot voting only."),
    )
    max_dots_per_proposal = forms.IntegerField(
        min_value=1,
        max_value=MAX_DOTS,
        initial=3,
        label=gettext_lazy("Most dots on one design"),
        help_text=gettext_lazy("Dot voting only."),
    )
    live_totals = forms.BooleanField(
        required=False,
        label=gettext_lazy("Show the vote totals while voting is open"),
        help_text=gettext_lazy("Off: totals appear when voting closes, so early votes don't sway later ones."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = organized_communities(user)


class IdeaForm(CodesignForm):
    field_ids = "idea_%s"
    text = forms.CharField(
        max_length=300,
        label=gettext_lazy("Your idea"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("A sentence or two, up to 300 characters. A full design comes later, as a proposal."),
    )


class ProposalForm(CodesignForm):
    title = forms.CharField(max_length=120, label=gettext_lazy("Title of your design"))
    description = forms.CharField(
        max_length=10_000,
        label=gettext_lazy("Describe your design"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=format_lazy("{} {}", MARKDOWN_HELP, gettext_lazy("Add sketches and photos after saving.")),
    )
    cost = forms.DecimalField(
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
        initial=Decimal("0"),
        label=gettext_lazy("Materials cost, in credits"),
        widget=decimal_input("0.01"),
    )
    hours = forms.DecimalField(
        min_value=Decimal("0"),
        max_digits=5,
        decimal_places=2,
        initial=Decimal("0"),
        label=gettext_lazy("Volunteer hours to build it"),
        widget=decimal_input("0.25"),
        help_text=gettext_lazy("In quarters: 0.25, 0.5, 1.5 ..."),
    )
    tools = forms.ModelMultipleChoiceField(
        queryset=Tool.objects.none(),
        required=False,
        label=gettext_lazy("Tools from the tool library"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=gettext_lazy("Hold Ctrl (or ⌘) to choose several."),
    )
    tools_text = forms.CharField(max_length=300, required=False, label=gettext_lazy("Other tools needed (optional)"))
    skills = SkillMultipleChoiceField(
        queryset=Skill.objects.none(),
        required=False,
        label=gettext_lazy("Skills needed"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=gettext_lazy("Hold Ctrl (or ⌘) to choose several."),
    )

    def __init__(self, *args, challenge: Challenge, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tools"].queryset = Tool.objects.filter(
            community_id=challenge.community_id, status=Tool.Status.ACTIVE
        ).order_by("title", "pk")
        self.fields["skills"].queryset = skills_of_communities([challenge.community_id])


class PhotoForm(CodesignForm):
    """One picture; the service checks that it is a real image and not too big."""

    image = forms.FileField(
        label=gettext_lazy("Picture"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=gettext_lazy("JPEG, PNG or WebP, at most 8 MB. Location data in the file is removed."),
    )
    alt_text = forms.CharField(
        required=False,
        max_length=200,
        label=gettext_lazy("Describe the picture"),
        help_text=gettext_lazy("For neighbors using a screen reader, e.g. “Sketch of a bench along the wall”."),
    )
    MAX = ProposalPhoto.MAX_PER_PROPOSAL


class ChallengePhotoForm(PhotoForm):
    kind = forms.ChoiceField(
        choices=ChallengePhoto.Kind.choices,
        widget=forms.RadioSelect,
        label=gettext_lazy("Which picture"),
        initial=ChallengePhoto.Kind.BEFORE,
    )
    field_order = ("kind", "image", "alt_text")


class AnswerForm(CodesignForm):
    field_ids = "answer_%s"
    decision = forms.ChoiceField(
        choices=[("accept", gettext_lazy("Accept for voting")), ("decline", gettext_lazy("Not feasible"))],
        widget=forms.RadioSelect,
        label=gettext_lazy("Your answer"),
    )
    reason = forms.CharField(
        max_length=500,
        required=False,
        label=gettext_lazy("Why (needed for “not feasible”)"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    publish = forms.BooleanField(
        required=False,
        initial=True,
        label=gettext_lazy("Publish the answer now"),
        help_text=gettext_lazy("Off: only organizers see it until you publish it."),
    )


class CommentForm(CodesignForm):
    field_ids = "comment_%s"
    text = forms.CharField(
        max_length=2000, label=gettext_lazy("Your comment"), widget=forms.Textarea(attrs={"rows": 3})
    )
    proposal = forms.IntegerField(required=False, widget=forms.HiddenInput)
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)


class VoteForm(forms.Form):
    dots = forms.IntegerField(min_value=0, max_value=MAX_DOTS)


class StepForm(CodesignForm):
    note = forms.CharField(max_length=300, required=False, label=gettext_lazy("A note for the followers (optional)"))


class TaskForm(CodesignForm):
    project = forms.ModelChoiceField(queryset=Project.objects.none(), label=gettext_lazy("Design"), empty_label=None)
    title = forms.CharField(
        max_length=120, label=gettext_lazy("What needs doing"), help_text=gettext_lazy("E.g. “Sand the planks”.")
    )
    hours = forms.DecimalField(
        min_value=Decimal("0.25"),
        max_value=Decimal("12"),
        max_digits=5,
        decimal_places=2,
        label=gettext_lazy("Hours each"),
        widget=decimal_input("0.25"),
        help_text=gettext_lazy("From 0.25 to 12, in quarters; paid from the co-design fund."),
    )
    when = forms.DateField(required=False, label=gettext_lazy("On (optional)"), widget=DateInput())
    places = forms.IntegerField(min_value=1, max_value=50, initial=2, label=gettext_lazy("People needed"))
    skill = SkillChoiceField(
        queryset=Skill.objects.none(),
        required=False,
        label=gettext_lazy("Skill needed (optional)"),
        empty_label=gettext_lazy("No particular skill"),
    )
    tool = forms.ModelChoiceField(
        queryset=Tool.objects.none(),
        required=False,
        label=gettext_lazy("Tool to borrow (optional)"),
        empty_label=gettext_lazy("No tool"),
    )

    def __init__(self, *args, challenge: Challenge, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.filter(challenge=challenge).select_related("proposal")
        self.fields["project"].label_from_instance = lambda project: project.proposal.title
        self.fields["skill"].queryset = skills_of_communities([challenge.community_id])
        self.fields["tool"].queryset = Tool.objects.filter(
            community_id=challenge.community_id, status=Tool.Status.ACTIVE
        ).order_by("title", "pk")


class MemberChoiceField(forms.ModelChoiceField):
    """A neighbor of the community, by the name neighbors know them by."""

    def label_from_instance(self, obj: User) -> str:
        return obj.public_name


def community_members(community_id: int) -> QuerySet[User]:
    from apps.peers.selectors import active_members_in

    return (
        active_members_in(community_ids=[community_id])
        .select_related("profile")
        .order_by("profile__display_name", "pk")
    )


class SpendForm(CodesignForm):
    """Pay from the challenge's budget (e.g. a neighbor who bought the wood). ``key``
    is made when the form is shown, so sending it twice pays once."""

    field_ids = "spend_%s"
    recipient = MemberChoiceField(queryset=User.objects.none(), label=gettext_lazy("Pay"), empty_label=None)
    amount = forms.DecimalField(
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        label=gettext_lazy("Amount in credits"),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    memo = forms.CharField(
        max_length=200,
        label=gettext_lazy("What for"),
        help_text=gettext_lazy("E.g. “Oak planks from the timber yard”."),
    )
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, challenge: Challenge, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = community_members(challenge.community_id)
        if not self.is_bound:
            import uuid

            self.initial["key"] = uuid.uuid4().hex


class CoauthorForm(CodesignForm):
    field_ids = "coauthor_%s"
    coauthor = MemberChoiceField(queryset=User.objects.none(), label=gettext_lazy("Add a co-author"), empty_label=None)

    def __init__(self, *args, proposal, **kwargs):
        super().__init__(*args, **kwargs)
        taken = [proposal.author_id, *proposal.coauthors.values_list("pk", flat=True)]
        self.fields["coauthor"].queryset = community_members(proposal.challenge.community_id).exclude(pk__in=taken)
