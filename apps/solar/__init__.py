"""The Micro Solar Exchange (issue 13, being built): so far its clearing rule
(``apps.solar.clearing``), exact and tested on its own. Not an installed app yet: it has
no models, pages or API until the rest of the exchange lands."""
