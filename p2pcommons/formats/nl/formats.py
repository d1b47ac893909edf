"""Dutch date formats: the shape of the English ones ("di 24 nov 2026, 10:00"), day
before month, 24-hour clock; Django's Dutch names for days and months, in lower case as
Dutch writes them ("b": "nov", where English's "M" gives "Nov").

Input formats stay Django's (ISO first), so forms keep accepting what they accepted.
Numbers: a decimal comma ("1,50 uur"); no thousands grouping unless the site turns on
USE_THOUSAND_SEPARATOR.
"""

DATE_FORMAT = "D j b Y"
DATETIME_FORMAT = "D j b Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j b Y"
SHORT_DATETIME_FORMAT = "j b Y, H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1  # Monday
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
