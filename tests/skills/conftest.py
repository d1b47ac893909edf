from decimal import Decimal

import pytest

from apps.peers.models import Profile
from apps.skills.factories import SkillCategoryFactory, SkillFactory


def place(user, lat: float, lng: float) -> None:
    """Put a member at an (already approximate) location."""
    Profile.objects.filter(user=user).update(approx_latitude=Decimal(str(lat)), approx_longitude=Decimal(str(lng)))
    user.profile.refresh_from_db()


@pytest.fixture
def repair(db):
    return SkillCategoryFactory(slug="repair-t", name="Repair (test)")


@pytest.fixture
def bike_repair(repair):
    return SkillFactory(category=repair, slug="bike-repair-t", name="Bike repair (test)")


@pytest.fixture
def furniture_repair(repair):
    return SkillFactory(category=repair, slug="furniture-repair-t", name="Furniture repair (test)")


@pytest.fixture
def baking(db):
    return SkillFactory(category=SkillCategoryFactory(slug="cooking-t"), slug="baking-t", name="Baking (test)")
