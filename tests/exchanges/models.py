"""Stand-ins for domain exchanges (a tool loan, a skill session, ...).

The core apps never import the domain apps, so their tests register these models with
the reputation registry (see ``apps.py``) and pay through the ledger for them, as a
domain app would. Two models with differently named fields, in two domains, show that
the registry makes no assumption about field names.
"""

from django.conf import settings
from django.db import models


class Exchange(models.Model):
    """Two neighbors' exchange in a community; complete once ``completed_at`` is set."""

    community = models.ForeignKey("peers.Community", on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    receiver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=100, default="Lent a ladder")
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.title


class Session(models.Model):
    """A skill session between a teacher and a learner; complete once confirmed."""

    community = models.ForeignKey("peers.Community", on_delete=models.CASCADE, related_name="+")
    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=100, default="Bike repair lesson")
    confirmed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.title
