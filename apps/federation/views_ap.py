"""The server-to-server protocol (ActivityPub, WebFinger, NodeInfo): thin views over the
federation's services and selectors. Everything here is public JSON about communities
that opted in, and about members who opted in; anything else is a 404. Refusals of
signed requests are 401 with a JSON reason.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from p2pcommons.params import query_int

from . import activities, registry
from .models import FederatedMember, Follow, LocalActor, OutboxActivity
from .services import InboxRefused, clearing_statement_for, inbox_receive
from .services.inbox import _verify

AP_TYPE = "application/activity+json"
PAGE_SIZE = 20


def _ap(doc: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(doc, status=status, content_type=AP_TYPE, json_dumps_params={"ensure_ascii": False})


def _not_found() -> JsonResponse:
    return JsonResponse({"detail": "not found"}, status=404)


def _refused(reason: str) -> JsonResponse:
    return JsonResponse({"detail": "refused", "reason": reason}, status=401)


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return any(kind in accept for kind in ("application/activity+json", "application/ld+json", "application/json"))


def _local(slug: str) -> LocalActor | None:
    return LocalActor.objects.select_related("community").filter(community__slug=slug, enabled=True).first()


def _our_host() -> str:
    return urlsplit(activities.site()).netloc


@require_GET
def webfinger(request: HttpRequest) -> HttpResponse:
    """``acct:<slug>@<host>`` -> the community's actor (JRD, readable from any origin)."""
    resource = request.GET.get("resource", "")
    name, sep, host = resource.removeprefix("acct:").partition("@")
    local = _local(name) if resource.startswith("acct:") and sep and host == _our_host() else None
    if local is None and resource.startswith(("https://", "http://")):
        local = LocalActor.objects.select_related("community").filter(uri=resource, enabled=True).first()
    if local is None:
        response = _not_found()
    else:
        response = JsonResponse(
            {
                "subject": f"acct:{local.handle}",
                "aliases": [local.uri],
                "links": [
                    {"rel": "self", "type": AP_TYPE, "href": local.uri},
                    {
                        "rel": "http://webfinger.net/rel/profile-page",
                        "type": "text/html",
                        "href": f"{activities.site()}{local.community.get_absolute_url()}",
                    },
                ],
            },
            content_type="application/jrd+json",
        )
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def nodeinfo_index(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(
        {
            "links": [
                {
                    "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                    "href": f"{activities.site()}/nodeinfo/2.1",
                }
            ]
        }
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def nodeinfo(request: HttpRequest) -> JsonResponse:
    """The instance: software, protocol, and counts only (no person is named)."""
    from importlib.metadata import PackageNotFoundError, version

    from apps.peers.models import User

    try:
        software_version = version("p2pcommons")
    except PackageNotFoundError:
        software_version = "0"
    people = User.objects.filter(is_active=True, remote_actor__isnull=True)
    federated = list(LocalActor.objects.filter(enabled=True).values_list("community_id", flat=True))
    listings = sum(listing_type.public_in(federated).count() for listing_type in registry.registered())
    response = JsonResponse(
        {
            "version": "2.1",
            "software": {"name": "p2pcommons", "version": software_version},
            "protocols": ["activitypub"],
            "services": {"inbound": [], "outbound": []},
            "openRegistrations": True,
            "usage": {"users": {"total": people.count()}, "localPosts": listings},
            "metadata": {"federatedCommunities": len(federated)},
        },
        content_type='application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"',
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def actor(request: HttpRequest, slug: str) -> HttpResponse:
    """The community's Group actor (JSON for servers; a browser goes to its page)."""
    local = _local(slug)
    if local is None:
        return _not_found()
    if not _wants_json(request):
        return HttpResponseRedirect(local.community.get_absolute_url())
    return _ap(activities.group_document(local))


def _receive(request: HttpRequest, local: LocalActor | None) -> JsonResponse:
    from .httpsig import django_request_parts

    method, url, headers, body = django_request_parts(request)
    try:
        _item, created = inbox_receive(method=method, url=url, headers=headers, body=body, local=local)
    except InboxRefused as refused:
        return _refused(refused.reason)
    return JsonResponse({"detail": "accepted" if created else "already received"}, status=202)


@csrf_exempt
@require_http_methods(["POST"])
def inbox(request: HttpRequest, slug: str) -> JsonResponse:
    local = _local(slug)
    if local is None:
        return _not_found()
    return _receive(request, local)


@csrf_exempt
@require_http_methods(["POST"])
def shared_inbox(request: HttpRequest) -> JsonResponse:
    return _receive(request, None)


def _follower_refusal(request: HttpRequest, local: LocalActor) -> JsonResponse | None:
    """Listings are shown to a community's members and to the neighbours it accepted, not to
    the open web: a 401 unless the request is signed by an accepted follower ("authorized
    fetch"). A read may be retried, so its signature is not kept as a replay token."""
    from .httpsig import django_request_parts

    method, url, headers, body = django_request_parts(request)
    try:
        requester, _tokens = _verify(method=method, url=url, headers=headers, body=body, via=local)
    except InboxRefused as refused:
        return _refused(refused.reason)
    accepted = Follow.objects.filter(
        local=local, remote=requester, direction=Follow.Direction.IN, state=Follow.State.ACCEPTED
    )
    return None if accepted.exists() else _refused("not_a_follower")


@require_GET
def outbox(request: HttpRequest, slug: str) -> HttpResponse:
    """The community's public activities (listings announced), newest first, paged: how many
    to anyone, the pages only to a neighbour it accepted (``_follower_refusal``)."""
    local = _local(slug)
    if local is None:
        return _not_found()
    public = OutboxActivity.objects.filter(local=local, public=True)
    total = public.count()
    if "page" not in request.GET:
        return _ap(
            {
                "@context": activities.context(),
                "id": local.outbox_url,
                "type": "OrderedCollection",
                "totalItems": total,
                "first": f"{local.outbox_url}?page=1",
            }
        )
    refusal = _follower_refusal(request, local)
    if refusal is not None:
        return refusal
    page = query_int(request.GET, "page", default=1, low=1, high=100000)
    rows = list(public.order_by("-created_at", "-id")[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    doc = {
        "@context": activities.context(),
        "id": f"{local.outbox_url}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": local.outbox_url,
        "totalItems": total,
        "orderedItems": [row.payload for row in rows[:PAGE_SIZE]],
    }
    if len(rows) > PAGE_SIZE:
        doc["next"] = f"{local.outbox_url}?page={page + 1}"
    if page > 1:
        doc["prev"] = f"{local.outbox_url}?page={page - 1}"
    return _ap(doc)


def _collection(local: LocalActor, url: str, direction: str) -> JsonResponse:
    count = Follow.objects.filter(local=local, direction=direction, state=Follow.State.ACCEPTED).count()
    return _ap({"@context": activities.context(), "id": url, "type": "OrderedCollection", "totalItems": count})


@require_GET
def followers(request: HttpRequest, slug: str) -> HttpResponse:
    local = _local(slug)
    return _not_found() if local is None else _collection(local, local.followers_url, Follow.Direction.IN)


@require_GET
def following(request: HttpRequest, slug: str) -> HttpResponse:
    local = _local(slug)
    return _not_found() if local is None else _collection(local, local.following_url, Follow.Direction.OUT)


@require_GET
def person(request: HttpRequest, handle: uuid.UUID) -> HttpResponse:
    """A member who opted in: their public name (nobody else has a document)."""
    member = FederatedMember.objects.select_related("user__profile").filter(handle=handle).first()
    if member is None or not member.user.is_active:
        return _not_found()
    return _ap(activities.person_document(member))


@require_GET
def listing(request: HttpRequest, slug: str, kind: str, pk: int) -> HttpResponse:
    """One listing as its Proposal, to a neighbour it accepted (a paused, hidden or deleted
    one: 404)."""
    from .services.listings import proposal_of

    local = _local(slug)
    listing_type = registry.listing_type(kind)
    if local is None or listing_type is None:
        return _not_found()
    refusal = _follower_refusal(request, local)
    if refusal is not None:
        return refusal
    obj = listing_type.model._default_manager.filter(pk=pk).first()
    if obj is None or listing_type.community_id(obj) != local.community_id or not listing_type.is_public(obj):
        return _not_found()
    return _ap(proposal_of(local=local, listing_type=listing_type, obj=obj))


@require_GET
def clearing(request: HttpRequest, slug: str) -> HttpResponse:
    """Our statement of the clearing account kept for the neighbour asking: only for a
    request signed by that neighbour (``peer`` is its actor), 401 otherwise."""
    from .httpsig import django_request_parts
    from .models import SeenSignature

    local = _local(slug)
    if local is None:
        return _not_found()
    method, url, headers, body = django_request_parts(request)
    try:
        requester, tokens = _verify(method=method, url=url, headers=headers, body=body, via=local)
    except InboxRefused as refused:
        return _refused(refused.reason)
    if requester.uri != request.GET.get("peer"):
        return _refused("not_the_peer")
    try:
        SeenSignature.objects.bulk_create([SeenSignature(token=t) for t in tokens])
    except IntegrityError:
        return _refused("replayed")
    currency = request.GET.get("currency", "CREDIT")
    try:
        statement = clearing_statement_for(local=local, requester=requester, currency=currency)
    except ValidationError as exc:
        return JsonResponse(exc.message_dict, status=400)
    return JsonResponse(statement)
