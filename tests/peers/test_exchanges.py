"""A community's exchanges: starting and stopping a blueprint, who may, what it changes,
and the one ranked text search every exchange's search goes through."""

import pytest
from django.urls import reverse

from apps.peers import blueprints
from apps.peers.exchanges import exchange_start, exchange_stop
from apps.peers.factories import CommunityFactory, OrganizerMembershipFactory
from apps.peers.guards import require_exchange_in_use
from apps.peers.models import Community, CommunityExchange, Profile
from apps.peers.search import ranked_match, words_of
from apps.peers.services import community_create
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db
PLACE = {"center_latitude": "52.36", "center_longitude": "4.9"}


def test_the_four_blueprints_are_registered_in_order_with_their_cards():
    cards = [(b.category, b.title, b.tags) for b in blueprints.all_blueprints()]
    assert cards == [
        ("Collaboration", "Community Tool Sharing", ("DIY", "Shared")),
        ("Sustainability", "Micro Solar Exchange", ("Energy", "Green")),
        ("Learning", "Skill Swap Network", ("Education", "P2P")),
        ("Design", "Co-Design Mini Projects", ("Home", "Creative")),
    ]


def test_a_new_community_uses_every_exchange_unless_told_otherwise(organizer):
    everything = community_create(creator=organizer, name="Canal Side", slug="canal-side", **PLACE)
    assert blueprints.keys_in_use(community_id=everything.pk) == {"tools", "solar", "skills", "codesign"}
    some = community_create(creator=organizer, name="Dyke Road", slug="dyke-road", exchanges=["tools"], **PLACE)
    assert blueprints.keys_in_use(community_id=some.pk) == {"tools"}


def test_an_organizer_starts_a_blueprint_with_its_default_rules_and_stops_it(organizer):
    community = CommunityFactory(slug="quiet", name="Quiet Lane", exchanges=[])
    OrganizerMembershipFactory(user=organizer, community=community)
    row = exchange_start(community=community, key="solar", actor=organizer)
    assert row.rules == blueprints.blueprint("solar").default_rules and row.started_by == organizer
    assert blueprints.in_use(community_id=community.pk, key="solar")
    again = exchange_start(community=community, key="solar", actor=organizer)
    assert again.pk == row.pk and CommunityExchange.objects.filter(community=community).count() == 1
    stopped = exchange_stop(community=community, key="solar", actor=organizer)
    assert stopped.stopped_at is not None and not blueprints.in_use(community_id=community.pk, key="solar")
    assert exchange_stop(community=community, key="solar", actor=organizer) is None
    restarted = exchange_start(community=community, key="solar", actor=organizer, rules="Sell what you make.")
    assert restarted.pk == row.pk and restarted.stopped_at is None and restarted.rules == "Sell what you make."


def test_only_an_organizer_of_that_community_chooses_its_exchanges(community, member, organizer, other_community):
    with pytest.raises(RuleViolation) as refused:
        exchange_stop(community=community, key="tools", actor=member)
    assert refused.value.code == "not_organizer"
    OrganizerMembershipFactory(user=member, community=other_community)
    with pytest.raises(RuleViolation):
        exchange_stop(community=community, key="tools", actor=member)
    with pytest.raises(RuleViolation) as unknown:
        exchange_start(community=community, key="bitcoin", actor=organizer)
    assert unknown.value.code == "unknown_exchange"
    assert blueprints.keys_in_use(community_id=community.pk) == {"tools", "solar", "skills", "codesign"}


def test_a_stopped_exchange_refuses_new_things_with_its_name(community, organizer):
    require_exchange_in_use(community_id=community.pk, key="tools", doing="list a tool")
    exchange_stop(community=community, key="tools", actor=organizer)
    with pytest.raises(RuleViolation) as refused:
        require_exchange_in_use(community_id=community.pk, key="tools", doing="list a tool")
    assert refused.value.code == "exchange_off"
    assert str(refused.value) == (
        "This community does not use the Community Tool Sharing exchange, so you can't list a tool there."
    )


def test_the_menu_shows_the_exchanges_of_the_members_communities(member, community, organizer):
    assert blueprints.keys_in_use_for(user=member) == {"tools", "solar", "skills", "codesign"}
    exchange_stop(community=community, key="solar", actor=organizer)
    assert blueprints.keys_in_use_for(user=member) == {"tools", "skills", "codesign"}
    other = CommunityFactory(slug="sunny-two", name="Sunny Two")
    OrganizerMembershipFactory(user=member, community=other)
    assert "solar" in blueprints.keys_in_use_for(user=member)


def test_a_community_added_in_the_admin_uses_every_exchange(client, django_user_model):
    admin = django_user_model.objects.create_superuser(email="root@example.org", password="x")
    client.force_login(admin)
    response = client.post(
        reverse("admin:peers_community_add"),
        {
            "name": "Harbour",
            "slug": "harbour",
            "center_latitude": "52.1",
            "center_longitude": "4.3",
            "radius_km": "2",
            "default_hour_limit": "-10",
            "default_credit_limit": "-50",
            "hour_limit_floor": "-100",
            "credit_limit_floor": "-500",
            "flag_threshold": "3",
            "flag_min_member_days": "7",
            "flag_min_exchanges": "1",
            "created_at_0": "2026-12-01",
            "created_at_1": "10:00:00",
            "join_policy": "open",
        },
    )
    assert response.status_code == 302, (response.context["adminform"].form.errors,)
    harbour = Community.objects.get(slug="harbour")
    assert blueprints.keys_in_use(community_id=harbour.pk) == {"tools", "solar", "skills", "codesign"}
    page = client.get(reverse("admin:peers_community_change", args=[harbour.pk])).content.decode()
    assert "Community Tool Sharing, Micro Solar Exchange, Skill Swap Network, Co-Design Mini Projects" in page


def test_words_are_letters_and_digits_and_at_most_eight():
    assert words_of("  fix a 'leaking' tap!! ") == ["fix", "a", "leaking", "tap"]
    assert words_of("';-- drop table") == ["drop", "table"]
    assert len(words_of(" ".join(f"w{i}" for i in range(20)))) == 8
    assert words_of("") == [] and words_of("!!!") == []


def test_ranked_match_needs_every_word_and_ranks_the_first_field_first(member, owner):
    Profile.objects.filter(user=member).update(display_name="Wrench Wendy", bio="Bikes and ladders")
    Profile.objects.filter(user=owner).update(display_name="Olive Owner", bio="Lends her wrench to anyone")
    found = list(ranked_match(Profile.objects.all(), "wrench", ["display_name", "bio"]).order_by("-search_rank"))
    assert [p.user_id for p in found] == [member.pk, owner.pk]
    assert found[0].search_rank > found[1].search_rank
    assert list(ranked_match(Profile.objects.all(), "wrench bikes", ["display_name", "bio"])) == [member.profile]
    assert not ranked_match(Profile.objects.all(), "   ", ["display_name"]).exists()
    # The last word matches as a prefix while typing (both code paths).
    assert ranked_match(Profile.objects.all(), "wren", ["display_name", "bio"]).count() == 2
