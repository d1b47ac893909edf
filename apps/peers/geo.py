"""Location helpers: rounding to protect members' exact whereabouts, and distances."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

# About 500 m expressed in degrees of latitude (1 degree is about 111.2 km).
GRID_METERS = 500
_LAT_STEP = Decimal(GRID_METERS) / Decimal("111195")
EARTH_RADIUS_KM = 6371.0088


def approximate(latitude: Decimal | float, longitude: Decimal | float) -> tuple[Decimal, Decimal]:
    """Snap a point to a grid of about 500 m x 500 m cells and return the cell's center.

    Longitude steps widen with latitude so cells stay about 500 m wide everywhere. The
    result is what we store: the exact point never reaches the database.
    """
    lat = Decimal(str(latitude))
    lng = Decimal(str(longitude))
    lat_cell = (lat / _LAT_STEP).to_integral_value(rounding=ROUND_HALF_EVEN)
    approx_lat = lat_cell * _LAT_STEP
    cos_lat = max(math.cos(math.radians(float(approx_lat))), 0.01)
    lng_step = _LAT_STEP / Decimal(str(cos_lat))
    lng_cell = (lng / lng_step).to_integral_value(rounding=ROUND_HALF_EVEN)
    approx_lng = lng_cell * lng_step
    q = Decimal("0.00001")
    approx_lat = min(max(approx_lat, Decimal("-90")), Decimal("90"))
    approx_lng = min(max(approx_lng, Decimal("-180")), Decimal("180"))
    return approx_lat.quantize(q), approx_lng.quantize(q)


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180  # along a meridian, about 111.19 km
# Widens the box by about 1 m so that float rounding never drops a row on its edge.
_BOX_MARGIN_DEGREES = 1e-5


def bounding_box(latitude: float, longitude: float, radius_km: float) -> dict[str, float]:
    """Latitude and longitude bounds of every point within ``radius_km`` of the point, as
    ``{"min_lat", "max_lat"[, "min_lng", "max_lng"]}``: a cheap range filter (an index
    range scan) that runs before the great-circle distance, which then sorts only what
    the box let through. The box contains the whole circle: the longitude span is taken
    at the latitude farthest from the equator within it. Near a pole or across the
    antimeridian the longitude bounds are left out (the box is then a band of latitude)."""
    dlat = radius_km / KM_PER_DEGREE + _BOX_MARGIN_DEGREES
    box = {"min_lat": latitude - dlat, "max_lat": latitude + dlat}
    widest = abs(latitude) + dlat
    if widest >= 89.0:
        return box
    dlng = radius_km / (KM_PER_DEGREE * math.cos(math.radians(widest))) + _BOX_MARGIN_DEGREES
    if longitude - dlng < -180 or longitude + dlng > 180:
        return box
    return {**box, "min_lng": longitude - dlng, "max_lng": longitude + dlng}


def within_box_q(latitude_field: str, longitude_field: str, box: dict[str, float]):
    """A Q keeping the rows whose location lies in ``box`` (from ``bounding_box``)."""
    from decimal import Decimal

    from django.db.models import Q

    def bound(value: float) -> Decimal:
        return Decimal(repr(value))

    q = Q(**{f"{latitude_field}__gte": bound(box["min_lat"]), f"{latitude_field}__lte": bound(box["max_lat"])})
    if "min_lng" in box:
        q &= Q(**{f"{longitude_field}__gte": bound(box["min_lng"]), f"{longitude_field}__lte": bound(box["max_lng"])})
    return q


def distance_km_expression(latitude_field: str, longitude_field: str, latitude: float, longitude: float):
    """Great-circle distance in km from a point to the location in two model fields, as a
    database expression (spherical law of cosines, on SQLite and PostgreSQL alike; NULL
    where the row has no location):
    ``.annotate(distance_km=distance_km_expression("latitude", "longitude", lat, lng))``."""
    from django.db.models import Case, FloatField, Q, Value, When
    from django.db.models.functions import ACos, Cast, Cos, Least, Radians, Sin

    plat = Radians(Cast(latitude_field, FloatField()))
    plng = Radians(Cast(longitude_field, FloatField()))
    # Least(1, ...) guards ACos against rounding just above 1 for the same point.
    central = ACos(
        Least(
            Value(1.0),
            Value(math.sin(math.radians(latitude))) * Sin(plat)
            + Value(math.cos(math.radians(latitude))) * Cos(plat) * Cos(plng - Value(math.radians(longitude))),
            output_field=FloatField(),
        )
    )
    # No location, no distance: NULL on both databases (PostgreSQL's LEAST skips a NULL
    # argument, so without this a missing location would read as 0 km there).
    known = Q(**{f"{latitude_field}__isnull": False, f"{longitude_field}__isnull": False})
    return Case(When(known, then=central * Value(EARTH_RADIUS_KM)), default=None, output_field=FloatField())
