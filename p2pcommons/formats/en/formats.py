"""English date formats: the same as ``p2pcommons.humanize`` ("Tue 24 Nov 2026, 10:00").

Input formats stay Django's (ISO first), so forms keep accepting what they accepted.
"""

DATE_FORMAT = "D j M Y"
DATETIME_FORMAT = "D j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1  # Monday, as the availability calendar
