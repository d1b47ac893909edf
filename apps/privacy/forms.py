"""The "Move house" form: the download to bring in, the community to list in, and how."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.peers.models import Community, Membership

from .move_house import MAX_UPLOAD, TOO_BIG


class MoveHouseForm(forms.Form):
    """Only the communities where the member is active are offered (the service checks
    again); the file's size is refused here before it is opened."""

    TOOLS_PAUSED = "paused"
    TOOLS_ACTIVE = "active"

    file = forms.FileField(
        label=_("Your data download"),
        help_text=_("The .zip file from “Download my data” on your old server."),
    )
    community = forms.ModelChoiceField(label=_("List them in"), queryset=Community.objects.none(), empty_label=None)
    tools = forms.ChoiceField(
        label=_("Your tools"),
        choices=[
            (TOOLS_PAUSED, _("Paused: I will check each one and make it available")),
            (TOOLS_ACTIVE, _("Available to borrow at once")),
        ],
        initial=TOOLS_PAUSED,
        widget=forms.RadioSelect,
    )
    profile = forms.BooleanField(
        label=_("Also use the name, about me and neighborhood from the file"), required=False, initial=True
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.filter(
            memberships__user=user, memberships__status=Membership.Status.ACTIVE
        ).order_by("name")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(TOO_BIG % {"mb": MAX_UPLOAD // (1024 * 1024)})
        return upload
