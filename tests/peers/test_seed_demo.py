import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from apps.ledger.chain import verify_community
from apps.ledger.models import Transfer
from apps.peers.models import Community, Membership, User

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        User.objects.count(),
        Membership.objects.count(),
        sorted(Community.objects.values_list("slug", flat=True)),
        sorted(User.objects.values_list("password", flat=True)),
        Transfer.objects.count(),
    )


def test_seed_demo_builds_a_neighborhood_of_about_30_prints_the_logins_and_is_idempotent(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    sunnyside = Community.objects.get(slug="sunnyside")
    assert sunnyside.memberships.filter(status="active").count() == 31  # 30 neighbors + the organizer
    assert Membership.objects.get(user__email="organizer@example.org", community=sunnyside).role == "organizer"
    assert User.objects.get(email="admin@example.org").is_superuser
    assert "organizer@example.org" in out and "demo-neighbor" in out and "Neighbors (30/30)" in out
    assert User.objects.get(email="neighbor07@example.org").check_password("demo-neighbor")
    assert EmailAddress.objects.filter(email="neighbor07@example.org", verified=True, primary=True).exists()
    assert Transfer.objects.filter(community=sunnyside).count() > 30
    assert verify_community(community=sunnyside).ok

    # A second run (``make run`` seeds every time) adds nothing and resets no password.
    first = _snapshot()
    call_command("seed_demo")
    assert _snapshot() == first


def test_the_demo_neighbors_are_not_brand_new_accounts_so_the_trust_rules_weigh_them_fully():
    from datetime import timedelta

    from django.utils import timezone

    from apps.reputation.selectors import trust_standing

    call_command("seed_demo")
    month_ago = timezone.now() - timedelta(days=30)
    assert not User.objects.filter(email__endswith="@example.org", date_joined__gt=month_ago).exists()
    assert not Membership.objects.filter(joined_at__gt=month_ago).exists()
    # Established counterparts count fully: without the back-dating nobody in the demo is
    # established and the best anyone reaches is a quarter per counterpart.
    assert max(trust_standing(user=u).counterparts for u in User.objects.filter(email__startswith="neighbor")) >= 2
