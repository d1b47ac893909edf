from decimal import Decimal

import pytest

from apps.peers import geo
from apps.peers.models import User


def test_approximate_snaps_points_to_a_grid_of_about_500_meters():
    lat, lng = geo.approximate(Decimal("52.361234"), Decimal("4.901234"))
    assert geo.distance_km(52.361234, 4.901234, float(lat), float(lng)) < 0.36  # within half a cell diagonal
    # Two points 100 m apart in one cell map to the same stored point.
    assert geo.approximate(lat, lng) == (lat, lng)


def test_approximate_never_reveals_the_exact_point():
    exact = (Decimal("52.361234"), Decimal("4.901234"))
    assert geo.approximate(*exact) != exact


def test_distance_km_measures_great_circle_distance():
    # Amsterdam Centraal to Dam square is about 0.8 km.
    assert 0.7 < geo.distance_km(52.3791, 4.9003, 52.3731, 4.8926) < 0.9


@pytest.mark.django_db
def test_users_log_in_with_email_and_have_no_username():
    user = User.objects.create_user(email="Ann@Example.ORG", password="pw-123456789")
    assert user.email == "Ann@example.org"  # domain normalized
    assert user.check_password("pw-123456789")
    assert User.USERNAME_FIELD == "email"
    assert "username" not in {f.name for f in User._meta.get_fields()}


@pytest.mark.django_db
def test_superusers_are_staff():
    admin = User.objects.create_superuser(email="root@example.org", password="pw-123456789")
    assert admin.is_staff and admin.is_superuser


def test_the_custom_user_is_the_first_migration():
    from pathlib import Path

    from apps.peers.migrations import __path__ as mig_path

    first = sorted(p.name for p in Path(mig_path[0]).glob("0001_*.py"))
    assert first == ["0001_initial.py"]
    text = (Path(mig_path[0]) / "0001_initial.py").read_text()
    assert "name='User'" in text or 'name="User"' in text
