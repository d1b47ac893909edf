"""URL converters shared by every app."""


class IdConverter:
    """A database id: 1 to 18 digits, so it always fits a 64-bit integer column.

    Django's ``int`` converter takes any length, and SQLite raises OverflowError (a 500)
    for a foreign-key lookup with an id past 2**63; this makes such a URL a plain 404.
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
