"""Communities on other servers, over ActivityPub.

A community that opts in is a ``Group`` actor (``LocalActor``); communities and people on
other servers are ``RemoteActor`` rows (their public key cached). Follows carry listings
one way (``RemoteListing``), and a cross-community loan is a ``RemoteExchange`` on each
side. Every activity that arrives is an ``InboxItem`` (processed once, by activity id),
every activity that leaves is one ``Delivery`` per target inbox (sent by a task, retried,
idempotent by activity id and inbox), and ``SeenSignature`` remembers signatures already
accepted (replays are refused).

Only members who opted in (``FederatedMember``) ever appear in a federated payload, as
``Person`` actors with their public name; anybody else is named, if at all, as an opaque
per-exchange stand-in ("A neighbour of <community>").
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy


class LocalActor(models.Model):
    """One of our communities as an ActivityPub ``Group`` actor.

    The key pair signs what the community sends; the private key never leaves this
    table (it is not in any export or API). ``enabled`` is the organizers' switch: a
    disabled actor answers 404 everywhere, as if it did not exist.
    """

    community = models.OneToOneField("peers.Community", on_delete=models.CASCADE, related_name="federation")
    enabled = models.BooleanField(default=False)
    uri = models.URLField(max_length=500, unique=True)
    private_key_pem = models.TextField()
    public_key_pem = models.TextField()
    enabled_at = models.DateTimeField(null=True, blank=True)
    # "Anyone may follow": the organizers' choice to accept every follow without asking.
    auto_accept_followers = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = gettext_lazy("community on the federation")
        verbose_name_plural = gettext_lazy("communities on the federation")

    def __str__(self) -> str:
        return self.handle

    @property
    def key_id(self) -> str:
        return f"{self.uri}#main-key"

    @property
    def host(self) -> str:
        return urlsplit(self.uri).netloc

    @property
    def handle(self) -> str:
        return f"{self.community.slug}@{self.host}"

    @property
    def inbox_url(self) -> str:
        return f"{self.uri}/inbox"

    @property
    def outbox_url(self) -> str:
        return f"{self.uri}/outbox"

    @property
    def followers_url(self) -> str:
        return f"{self.uri}/followers"

    @property
    def following_url(self) -> str:
        return f"{self.uri}/following"


class FederatedMember(models.Model):
    """A member who chose to appear on other servers (public name only)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="federation_opt_in")
    opted_in_at = models.DateTimeField(auto_now_add=True)
    # The opaque part of their Person uri: never their id, email or name.
    handle = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        verbose_name = gettext_lazy("member shown to neighbour communities")
        verbose_name_plural = gettext_lazy("members shown to neighbour communities")

    def __str__(self) -> str:
        return str(self.user)


class RemoteActor(models.Model):
    """An actor on another server (a community, a person), with its cached public key.

    ``user`` is the local stand-in account of a remote person taking part in an
    exchange here: no usable password, an address that cannot receive mail, no
    membership; member lists, search and digests never list it.
    """

    class Kind(models.TextChoices):
        GROUP = "Group", gettext_lazy("community")
        PERSON = "Person", gettext_lazy("person")
        OTHER = "Other", gettext_lazy("other")

    uri = models.URLField(max_length=500, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OTHER)
    handle = models.CharField(max_length=300, blank=True)
    name = models.CharField(max_length=200, blank=True)
    summary = models.TextField(blank=True, max_length=5000)
    url = models.URLField(max_length=500, blank=True)
    inbox = models.URLField(max_length=500, blank=True)
    shared_inbox = models.URLField(max_length=500, blank=True)
    outbox = models.URLField(max_length=500, blank=True)
    key_id = models.CharField(max_length=600, blank=True, db_index=True)
    public_key_pem = models.TextField(blank=True)
    log_origin = models.CharField(max_length=500, blank=True)
    log_vkey = models.CharField(max_length=500, blank=True)
    home = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="people")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="remote_actor",
    )
    fetched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = gettext_lazy("neighbour on another server")
        verbose_name_plural = gettext_lazy("neighbours on other servers")

    def __str__(self) -> str:
        return self.name or self.handle or self.uri

    @property
    def host(self) -> str:
        return urlsplit(self.uri).netloc


class Follow(models.Model):
    """A follow between one of our communities and a remote community.

    ``out``: we follow them and receive their listings; ``in``: they follow us and
    receive ours (only once ``accepted``).
    """

    class Direction(models.TextChoices):
        OUT = "out", gettext_lazy("we follow them")
        IN = "in", gettext_lazy("they follow us")

    class State(models.TextChoices):
        PENDING = "pending", gettext_lazy("waiting for an answer")
        ACCEPTED = "accepted", gettext_lazy("accepted")
        REJECTED = "rejected", gettext_lazy("declined")
        ENDED = "ended", gettext_lazy("ended")

    local = models.ForeignKey(LocalActor, on_delete=models.CASCADE, related_name="follows")
    remote = models.ForeignKey(RemoteActor, on_delete=models.CASCADE, related_name="follows")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # The Follow activity's id. Unique per direction: two communities of one server that
    # follow each other hold both ends of the same Follow here.
    activity_uri = models.URLField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["local", "remote", "direction"], name="federation_follow_once"),
            models.UniqueConstraint(fields=["activity_uri", "direction"], name="federation_follow_activity_once"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.local} {self.direction} {self.remote}"


class RemoteListing(models.Model):
    """A listing of a followed remote community, as received (FEP-0837 Proposal)."""

    class Kind(models.TextChoices):
        TOOL = "tool", gettext_lazy("tool")
        SKILL_OFFER = "skill_offer", gettext_lazy("skill offered")
        SKILL_REQUEST = "skill_request", gettext_lazy("help asked")

    uri = models.URLField(max_length=500, unique=True)
    origin = models.ForeignKey(RemoteActor, on_delete=models.CASCADE, related_name="listings")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=200)
    summary = models.TextField(blank=True, max_length=5000)
    category = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=500, blank=True)
    fee_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    fee_unit = models.CharField(max_length=20, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["origin", "kind", "deleted_at"], name="federation_listing_origin")]

    def __str__(self) -> str:
        return self.name


class RemoteExchange(models.Model):
    """A cross-community exchange, mirrored on each side.

    ``borrower``: our member uses a listing of theirs (we mirror their state);
    ``lender``: their member uses a listing of ours (the local object, a reservation,
    holds the truth; ``content_type``/``object_id`` point at it).
    """

    class Side(models.TextChoices):
        BORROWER = "borrower", gettext_lazy("our member borrows")
        LENDER = "lender", gettext_lazy("our member lends")

    class Status(models.TextChoices):
        OFFERED = "offered", gettext_lazy("asked")
        ACCEPTED = "accepted", gettext_lazy("accepted")
        REJECTED = "rejected", gettext_lazy("declined")
        PICKED_UP = "picked_up", gettext_lazy("picked up")
        RETURNED = "returned", gettext_lazy("returned")
        CANCELLED = "cancelled", gettext_lazy("cancelled")

    # The Agreement's id; unique per side (two communities of one server lending to each
    # other hold both sides of one Agreement here).
    uri = models.URLField(max_length=500)
    side = models.CharField(max_length=10, choices=Side.choices)
    local = models.ForeignKey(LocalActor, on_delete=models.CASCADE, related_name="exchanges")
    peer = models.ForeignKey(RemoteActor, on_delete=models.PROTECT, related_name="exchanges_as_peer")
    listing = models.ForeignKey(RemoteListing, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="remote_exchanges")
    remote_person = models.ForeignKey(RemoteActor, on_delete=models.PROTECT, related_name="exchanges_as_person")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    message = models.TextField(blank=True, max_length=2000)
    fee_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OFFERED)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # When the borrower side counts it as a completed exchange for reviews (the returned
    # time; empty on the lender side, where the local reservation is the exchange).
    completed_at = models.DateTimeField(null=True, blank=True)
    # The fee's way across: "" (none yet) | "sent" | "settled" | "refused" | "reversed".
    payment_state = models.CharField(max_length=10, blank=True)
    # The Offer activity that asked for it (the lender's Accept or Reject answers it).
    offer_uri = models.URLField(max_length=500, blank=True)
    # The fee's transfer in our ledger (borrower side: member -> clearing; lender side:
    # clearing -> member).
    fee_transfer = models.ForeignKey(
        "ledger.Transfer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The listing's uri as the lender names it (kept when the RemoteListing is gone).
    listing_uri = models.URLField(max_length=500, blank=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    local_object = GenericForeignKey("content_type", "object_id")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["uri", "side"], name="federation_exchange_once_per_side")]
        indexes = [
            models.Index(fields=["member", "-created_at"], name="federation_exchange_member"),
            models.Index(fields=["content_type", "object_id"], name="federation_exchange_object"),
        ]

    def __str__(self) -> str:
        return self.uri


class InboxItem(models.Model):
    """An activity that arrived, stored once by its id and processed once by a task."""

    class State(models.TextChoices):
        PENDING = "pending", gettext_lazy("waiting")
        PROCESSING = "processing", gettext_lazy("being processed")
        DONE = "done", gettext_lazy("processed")
        DEFERRED = "deferred", gettext_lazy("waiting for an earlier activity")
        IGNORED = "ignored", gettext_lazy("ignored")

    activity_uri = models.URLField(max_length=500, unique=True)
    local = models.ForeignKey(LocalActor, on_delete=models.CASCADE, null=True, blank=True, related_name="inbox")
    actor_uri = models.URLField(max_length=500)
    kind = models.CharField(max_length=40)
    object_uri = models.URLField(max_length=500, blank=True, db_index=True)
    payload = models.JSONField()
    key_id = models.CharField(max_length=600, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    reason = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["state", "received_at"], name="federation_inbox_state")]

    def __str__(self) -> str:
        return self.activity_uri


class OutboxActivity(models.Model):
    """An activity one of our communities sent; the public ones make its outbox."""

    activity_uri = models.URLField(max_length=500, unique=True)
    local = models.ForeignKey(LocalActor, on_delete=models.CASCADE, related_name="outbox")
    kind = models.CharField(max_length=40)
    payload = models.JSONField()
    public = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["local", "public", "-created_at"], name="federation_outbox_public")]

    def __str__(self) -> str:
        return self.activity_uri


class Delivery(models.Model):
    """One outgoing activity to one inbox; a task sends it, with retries and backoff."""

    class State(models.TextChoices):
        PENDING = "pending", gettext_lazy("waiting")
        SENDING = "sending", gettext_lazy("sending")
        SENT = "sent", gettext_lazy("sent")
        FAILED = "failed", gettext_lazy("given up")

    activity_uri = models.URLField(max_length=500)
    local = models.ForeignKey(LocalActor, on_delete=models.CASCADE, related_name="deliveries")
    inbox = models.URLField(max_length=500)
    kind = models.CharField(max_length=40)
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status = models.IntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["activity_uri", "inbox"], name="federation_delivery_once"),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="federation_delivery_due")]
        verbose_name_plural = gettext_lazy("deliveries")

    def __str__(self) -> str:
        return f"{self.kind} -> {self.inbox}"


class SeenSignature(models.Model):
    """A signature already accepted: the same one again is a replay (refused)."""

    token = models.CharField(max_length=128, unique=True)
    seen_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.token
