"""The people of the demo neighborhood: names, bios, homes and phone numbers.

Written by hand rather than drawn from Faker, whose names carry titles ("..., DDS"),
whose bios are filler and whose places are anywhere on earth. Everyone lives in one
city (Amsterdam, where the demo communities are): the neighborhood, street and rounded
location of each person fit together. Everything is chosen from the person's number,
so the demo is the same on every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from . import geo


@dataclass(frozen=True)
class Area:
    """A real neighborhood: its approximate center and a few of its streets."""

    name: str
    latitude: str
    longitude: str
    streets: tuple[str, ...]


# Around Sunnyside Commons (52.36, 4.90): between the Amstel, the Oosterpark and the Plantage.
SUNNYSIDE_AREAS = (
    Area("De Pijp", "52.3545", "4.8930", ("Govert Flinckstraat", "Tweede Jan Steenstraat", "Saenredamstraat")),
    Area("Oosterpark", "52.3595", "4.9160", ("Eerste Oosterparkstraat", "Tweede Boerhaavestraat", "Tilanusstraat")),
    Area("Plantage", "52.3660", "4.9105", ("Plantage Middenlaan", "Plantage Kerklaan", "Henri Polaklaan")),
    Area("Weesperzijde", "52.3535", "4.9080", ("Weesperzijde", "Blasiusstraat", "Andreas Bonnstraat")),
    Area("Weesperbuurt", "52.3620", "4.9040", ("Nieuwe Achtergracht", "Sarphatistraat", "Roetersstraat")),
    Area("Utrechtsebuurt", "52.3610", "4.8960", ("Utrechtsestraat", "Kerkstraat", "Utrechtsedwarsstraat")),
)
# Between the two communities: the neighbors who belong to both live here.
BETWEEN_AREAS = (
    Area("Nieuwmarkt", "52.3725", "4.9005", ("Kloveniersburgwal", "Sint Antoniesbreestraat", "Recht Boomssloot")),
    Area("Grachtengordel-West", "52.3730", "4.8860", ("Keizersgracht", "Leliegracht", "Berenstraat")),
    Area("Grachtengordel-Zuid", "52.3640", "4.8910", ("Prinsengracht", "Vijzelgracht", "Nieuwe Spiegelstraat")),
)
# Around Riverside Neighbors (52.375, 4.88): the Jordaan and the old warehouse islands.
RIVERSIDE_AREAS = (
    Area("Jordaan", "52.3755", "4.8815", ("Bloemgracht", "Lindengracht", "Westerstraat", "Elandsgracht")),
    Area("Haarlemmerbuurt", "52.3815", "4.8885", ("Haarlemmerdijk", "Binnen Oranjestraat", "Brouwersgracht")),
    Area("Westelijke Eilanden", "52.3860", "4.8875", ("Prinseneiland", "Realengracht", "Bickersgracht", "Zandhoek")),
    Area("Frederik Hendrikbuurt", "52.3795", "4.8750", ("Frederik Hendrikstraat", "Fannius Scholtenstraat")),
)
AREAS = {area.name: area for area in (*SUNNYSIDE_AREAS, *BETWEEN_AREAS, *RIVERSIDE_AREAS)}
NEIGHBORHOODS = frozenset(AREAS)

# A mixed city: first and last names as they are found on Amsterdam doorbells.
NAMES = [
    "Sanne de Vries",
    "Youssef El Amrani",
    "Marieke Bakker",
    "Priya Raman",
    "Daan Visser",
    "Fatima Ouali",
    "Lucas Smit",
    "Emma Jansen",
    "Kwame Mensah",
    "Sofia Rossi",
    "Thijs Mulder",
    "Ayşe Yılmaz",  # noqa: RUF001 - the Turkish dotless i is her name, not a typo
    "Jeroen de Boer",
    "Mei Chen",
    "Noor Hendriks",
    "Tomasz Kowalski",
    "Lotte van Dijk",
    "Ahmed Benali",
    "Femke Dekker",
    "Diego Fernández",
    "Inge Vermeulen",
    "Joost Meijer",
    "Hanna Schmidt",
    "Ruben Peters",
    "Chloé Martin",
    "Bram de Groot",
    "Samira Haddou",
    "Willem Bos",
    "Ana Costa",
    "Pieter Kok",
    "Yara Mahmoud",
    "Floor Brouwer",
    "Giulia Romano",
    "Sem van Leeuwen",
    "Naomi Pinas",
    "Hugo Verhoeven",
    "Marta Nowak",
    "Jasper de Wit",
    "Elif Demir",
    "Kofi Boateng",
]

# A bio is who someone is, what they do with their time and, often, a practical note.
# Thirty-one people, so no two of thirty neighbors are the same person; no sentence in
# one list contradicts a sentence in another.
WHO = [
    "Lived on this street for twelve years, first alone, now with two kids and a cat.",
    "Moved here from abroad in 2019 and still practising my Dutch.",
    "Retired primary school teacher.",
    "Nurse on the night shift, so I'm often home on weekday afternoons.",
    "Architect by day, amateur carpenter in the evenings.",
    "Student at the university, in a small flat on the top floor.",
    "I run a small bakery with my brother.",
    "I work from home most days as a translator.",
    "We moved in last spring with our baby daughter.",
    "Born and raised a few streets away, never saw a reason to leave.",
    "Cycle courier: I know every pothole in the area.",
    "Physiotherapist and parent of two teenagers.",
    "Recently retired from the tram company and glad of something to do.",
    "Graphic designer, sharing a studio by the canal.",
    "Chef in a restaurant in the centre, so my mornings are free.",
    "Grandmother of five, three of them just around the corner.",
    "Software developer, mostly working from the kitchen table.",
    "I teach music and give piano lessons at home (quietly, promise).",
    "Bus driver for almost twenty years.",
    "Researcher at the hospital, here for a few years with my partner.",
    "I work at the pharmacy on the square.",
    "Father of three and part-time carpenter.",
    "Just moved in from Utrecht with my partner and our dog.",
    "Social worker, and in my free time a keen cook.",
    "Retired engineer with a shed full of tools.",
    "Primary school teacher and mother of a seven-year-old.",
    "Florist at the Saturday market.",
    "Freelance photographer, often out on a job.",
    "In this neighborhood since the seventies and seen it all change.",
    "Electrician, happy to give advice on small jobs.",
    "Accountant by profession, gardener by passion.",
]
DOES = [
    "I bake bread on Sundays and always make too much.",
    "Keen cyclist; most bike problems I can fix.",
    "Growing tomatoes and beans on a tiny balcony.",
    "I try to repair things before I replace them.",
    "I sing in a choir on Tuesday evenings.",
    "Slowly doing up an old flat, one room at a time.",
    "I love cooking for more people than fit at my table.",
    "You'll find me playing chess in the park when the weather allows.",
    "Mostly reading, walking the dog and drinking too much coffee.",
    "Learning to sew, mainly by making mistakes.",
    "I help out at the food bank on Fridays.",
]
NOTES = [
    "Happy to lend my tools, just ask.",
    "Ring twice: the bell is a bit weak.",
    "Best reached in the evenings.",
    "",
    "Say hello if you see me at the market on Saturday.",
    "Always up for swapping plants and cuttings.",
    "",
]


def bio(n: int) -> str:
    """The bio of neighbor ``n`` (1, 2, ...)."""
    parts = (WHO[n % len(WHO)], DOES[(n * 4 + 1) % len(DOES)], NOTES[(n * 3) % len(NOTES)])
    return " ".join(part for part in parts if part)


def name(n: int) -> str:
    """The name of neighbor ``n``: the list first, then its first and last names recombined."""
    if n <= len(NAMES):
        return NAMES[n - 1]
    first = NAMES[(n - 1) % len(NAMES)].split(" ", 1)[0]
    last = NAMES[(n * 7 + 3) % len(NAMES)].split(" ", 1)[1]
    return f"{first} {last}"


def home(area: Area, n: int) -> dict[str, object]:
    """The profile fields of someone living in ``area``: the neighborhood, a street
    address, a private phone number and a location rounded as the profile form rounds it
    (within a few hundred metres of the area's center)."""
    latitude = Decimal(area.latitude) + Decimal((n * 37) % 9 - 4) * Decimal("0.0006")
    longitude = Decimal(area.longitude) + Decimal((n * 53) % 9 - 4) * Decimal("0.0009")
    approx_latitude, approx_longitude = geo.approximate(latitude, longitude)
    street = area.streets[(n * 5 + n // 3) % len(area.streets)]
    floor = ("", "-1", "-2", "-3", "-H")[n % 5]
    return {
        "neighborhood": area.name,
        "exact_address": f"{street} {(n * 29) % 120 + 3}{floor}",
        "phone": f"+31 6 {10_000_000 + (n * 48_271 * 7919) % 90_000_000}",
        "approx_latitude": approx_latitude,
        "approx_longitude": approx_longitude,
    }


def neighbor(n: int, *, in_both: bool) -> dict[str, object]:
    """All profile fields of demo neighbor ``n``; one in both communities lives between them."""
    areas = BETWEEN_AREAS if in_both else SUNNYSIDE_AREAS
    return {"display_name": name(n), "bio": bio(n), **home(areas[n % len(areas)], n)}


def person(display_name: str, bio_text: str, area: str, n: int) -> dict[str, object]:
    """Profile fields for one of the named demo accounts (organizers, the admin)."""
    return {"display_name": display_name, "bio": bio_text, **home(AREAS[area], n)}
