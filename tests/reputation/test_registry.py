"""The exchange registry: how domain apps declare what can be reviewed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.peers.models import Community
from apps.reputation import registry
from tests.exchanges.models import Exchange, Session


def test_the_stand_in_exchanges_are_registered_once_each():
    keys = [t.key for t in registry.registered()]

    assert keys.count("exchanges.exchange") == 1 and keys.count("exchanges.session") == 1
    assert registry.exchange_type_for("exchanges.session").domain == "skills"


def test_registering_a_model_twice_is_refused():
    with pytest.raises(ImproperlyConfigured, match="already registered"):
        registry.register_exchange(
            Exchange,
            domain="tools",
            parties=("provider", "receiver"),
            completed_at="completed_at",
            community="community",
        )


def test_an_unknown_domain_is_refused():
    with pytest.raises(ImproperlyConfigured, match="Unknown exchange domain"):
        registry.register_exchange(
            Community, domain="gardening", parties=("a", "b"), completed_at="created_at", community="pk"
        )


def test_an_unknown_exchange_type_is_named_in_the_error():
    with pytest.raises(registry.UnknownExchangeType, match=r"peers\.user"):
        registry.exchange_type_for("peers.user")


@pytest.mark.django_db
def test_field_paths_read_one_exchange(community, owner, member):
    session = Session.objects.create(community=community, teacher=owner, learner=member)
    kind = registry.exchange_type_of(session)

    assert kind.parties_of(session) == (owner, member)
    assert kind.completed_at_of(session) is None
    assert kind.community_of(session) == community
