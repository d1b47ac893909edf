"""Factories for the peer core: used by the tests and by `manage.py seed_demo`."""

from __future__ import annotations

from decimal import Decimal

import factory
import factory.random
from allauth.account.models import EmailAddress
from factory.django import DjangoModelFactory

from . import geo
from .models import Community, Membership, Profile, User

DEFAULT_PASSWORD = "correct-horse-battery-staple"  # noqa: S105 - test and demo accounts only


class UserFactory(DjangoModelFactory):
    """A user with a verified primary email and a profile."""

    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"neighbor{n}@example.org")
    is_active = True
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)
    profile = factory.RelatedFactory("apps.peers.factories.ProfileFactory", factory_related_name="user")

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create:
            self.save()
            EmailAddress.objects.get_or_create(
                user=self, email=self.email, defaults={"verified": extracted is not False, "primary": True}
            )


class ProfileFactory(DjangoModelFactory):
    class Meta:
        model = Profile
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory, profile=None)
    display_name = factory.Faker("name")
    bio = factory.Faker("paragraph", nb_sentences=2)
    neighborhood = factory.Faker("street_name")
    exact_address = factory.Faker("street_address")
    phone = factory.Faker("numerify", text="+31 6 ########")

    @factory.lazy_attribute
    def approx_latitude(self) -> Decimal:
        return geo.approximate(Decimal("52.36") + Decimal(factory.random.randgen.randint(-90, 90)) / 10000, 4.9)[0]

    @factory.lazy_attribute
    def approx_longitude(self) -> Decimal:
        return geo.approximate(52.36, Decimal("4.9") + Decimal(factory.random.randgen.randint(-150, 150)) / 10000)[1]


class CommunityFactory(DjangoModelFactory):
    class Meta:
        model = Community
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Community {n}")
    slug = factory.Sequence(lambda n: f"community-{n}")
    description = factory.Faker("paragraph", nb_sentences=3)
    center_latitude = Decimal("52.36000")
    center_longitude = Decimal("4.90000")
    radius_km = Decimal("2.00")

    @factory.post_generation
    def exchanges(self, create, extracted, **kwargs):
        """Every registered exchange in use, unless ``exchanges=[...]`` names them."""
        if not create:
            return
        from .blueprints import blueprint_keys
        from .models import CommunityExchange

        wanted = blueprint_keys() if extracted is None else list(extracted)
        CommunityExchange.objects.bulk_create(
            [CommunityExchange(community=self, key=key) for key in wanted], ignore_conflicts=True
        )


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership
        django_get_or_create = ("user", "community")

    user = factory.SubFactory(UserFactory)
    community = factory.SubFactory(CommunityFactory)
    role = Membership.Role.MEMBER
    status = Membership.Status.ACTIVE


class OrganizerMembershipFactory(MembershipFactory):
    role = Membership.Role.ORGANIZER
    user = factory.SubFactory(UserFactory, is_staff=True)
