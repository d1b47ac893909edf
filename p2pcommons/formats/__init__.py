"""Date formats for people, per language (settings.FORMAT_MODULE_PATH).

Django uses these wherever it formats a date without an explicit format: the admin's
change pages, ``{{ value }}`` of a date in a template, form widgets' initial values.
They match ``p2pcommons.humanize`` so the admin writes a moment as the site does.
"""
