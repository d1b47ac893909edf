"""The translation catalogs: find every marked string, keep each catalog up to date,
compile it, and say what is missing. Pure Python (Babel), so it works on a machine
without GNU gettext; ``manage.py messages`` runs it.

One catalog per folder that holds translatable text, each in ``<folder>/locale/<lang>/
LC_MESSAGES/django.po`` beside its compiled ``django.mo`` (both committed; Django
reads the ``.mo``):

- the project catalog ``locale/`` covers ``templates/`` and ``p2pcommons/``;
- each app ``apps/<name>/locale/`` covers that app's code and templates.

Templates are read exactly as Django's ``makemessages`` reads them (Django's own
``templatize`` turns ``{% translate %}``/``{% blocktranslate %}`` into gettext calls),
then Babel's Python extractor collects those and the Python code's
``gettext``/``gettext_lazy``/``ngettext``/``pgettext``/``gettext_noop`` and
``p2pcommons.i18n.Message`` calls.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from django.conf import settings
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)

KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "gettext_lazy": None,
    "ngettext_lazy": (1, 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext_lazy": ((1, "c"), 2, 3),
    "gettext_noop": None,
    "Message": None,
}

PLURAL_FORMS = {"nl": "nplurals=2; plural=(n != 1);"}

SKIP_DIRS = {"migrations", "locale", "__pycache__", "static"}


@dataclass(frozen=True)
class Domain:
    """One catalog: where its ``locale/`` lives and which folders it reads."""

    name: str
    locale_dir: Path
    sources: tuple[Path, ...]


def domains() -> list[Domain]:
    found = [Domain("project", ROOT / "locale", (ROOT / "templates", ROOT / "p2pcommons"))]
    for app in sorted((ROOT / "apps").iterdir()):
        if app.is_dir() and (app / "__init__.py").exists():
            found.append(Domain(app.name, app / "locale", (app,)))
    return found


def target_languages() -> list[str]:
    return [code for code, _ in settings.LANGUAGES if code != "en"]


def _files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if any(part in SKIP_DIRS for part in path.relative_to(folder).parts[:-1]):
            continue
        if path.suffix in (".py", ".html", ".txt") and path.is_file():
            yield path


@dataclass
class Found:
    """A string found in the code: its id, plural and context, and where."""

    msgid: str
    plural: str | None
    context: str | None
    locations: list[tuple[str, int]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.context, self.msgid)


def extract_domain(domain: Domain) -> dict[tuple[str | None, str], Found]:
    """Every marked string in the domain's folders."""
    found: dict[tuple[str | None, str], Found] = {}
    for folder in domain.sources:
        for path in _files(folder):
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".py":
                if "gettext" not in text and "Message(" not in text:
                    continue
                source = text
            else:
                if "trans" not in text:
                    continue
                # Django writes each string with repr() on one line; the rest of the
                # template becomes letters. Without indentation it tokenizes as Python.
                source = "\n".join(line.strip() for line in templatize(text, origin=str(path)).splitlines())
            rel = _shown(path)
            for lineno, message, _comments, context in extract(
                "python", io.BytesIO(source.encode("utf-8")), keywords=KEYWORDS
            ):
                msgid, plural = (message[0], message[1]) if isinstance(message, tuple) else (message, None)
                if not msgid:
                    continue
                item = found.setdefault((context, msgid), Found(msgid, plural, context))
                item.locations.append((rel, lineno))
    return found


def _shown(path: Path) -> str:
    """A path as reports show it: from the project root when it is inside."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def po_path(domain: Domain, lang: str) -> Path:
    return domain.locale_dir / lang / "LC_MESSAGES" / "django.po"


def read_catalog(path: Path, lang: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=lang, domain="django")
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def update(domain: Domain, lang: str) -> tuple[int, int]:
    """Bring the domain's catalog for ``lang`` up to date with the code: new strings are
    added untranslated, strings no longer in the code are dropped, translations kept.
    Returns (strings, untranslated). Never marks anything fuzzy."""
    found = extract_domain(domain)
    path = po_path(domain, lang)
    if not found and not path.exists():
        return (0, 0)
    old = read_catalog(path, lang)
    new = Catalog(
        locale=lang,
        domain="django",
        project="p2pcommons",
        charset="utf-8",
        fuzzy=False,
        header_comment=f"# {lang} translations of p2pcommons ({domain.name}).\n# Updated with `manage.py messages`.",
    )
    for item in sorted(found.values(), key=lambda f: (f.locations[0], f.msgid)):
        msg_id = (item.msgid, item.plural) if item.plural else item.msgid
        previous = old.get(item.msgid, context=item.context)
        string: str | tuple = ""
        if previous is not None and not previous.fuzzy:
            if item.plural and isinstance(previous.string, tuple | list):
                string = tuple(previous.string)
            elif not item.plural and isinstance(previous.string, str):
                string = previous.string
        if item.plural and not string:
            string = ("", "")
        flags = ["python-format"] if "%(" in item.msgid or "%s" in item.msgid else []
        new.add(msg_id, string, locations=item.locations[:5], flags=flags, context=item.context)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, new, width=100, omit_header=False, sort_output=False, include_previous=False)
    text = buffer.getvalue().decode("utf-8")
    # A header that does not change with every run, so the files only change with the code.
    text = _stable_header(text, lang)
    path.write_text(text, encoding="utf-8")
    compile_catalog(domain, lang)
    return (len(found), sum(1 for item in missing(domain, lang, found=found)))


def _stable_header(text: str, lang: str) -> str:
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith(('"POT-Creation-Date:', '"PO-Revision-Date:', '"Generated-By:', '"Last-Translator:')):
            continue
        if line.startswith('"Plural-Forms:'):
            line = f'"Plural-Forms: {PLURAL_FORMS.get(lang, "nplurals=2; plural=(n != 1);")}\\n"\n'
        lines.append(line)
    return "".join(lines)


# The .mo's header dates are fixed, so compiling the same .po gives the same bytes
# whenever it runs (the check compares them).
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def mo_bytes(domain: Domain, lang: str) -> bytes:
    catalog = read_catalog(po_path(domain, lang), lang)
    catalog.creation_date = FIXED_DATE
    catalog.revision_date = FIXED_DATE
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def compile_catalog(domain: Domain, lang: str) -> Path:
    path = po_path(domain, lang).with_suffix(".mo")
    path.write_bytes(mo_bytes(domain, lang))
    return path


PLACEHOLDER = re.compile(r"%\((\w+)\)[sdfr]|\{(\w+)\}")


def placeholders(text: str) -> set[str]:
    """The named values a sentence uses: ``%(name)s`` (gettext, templates) and ``{name}``
    (``Message``)."""
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def missing(domain: Domain, lang: str, *, found: dict | None = None) -> Iterator[str]:
    """What keeps the domain's catalog from being complete: each string in the code that
    the catalog lacks, leaves empty, or marks fuzzy, and a ``.mo`` older than its ``.po``."""
    found = extract_domain(domain) if found is None else found
    if not found:
        return
    path = po_path(domain, lang)
    catalog = read_catalog(path, lang)
    for item in found.values():
        where = f"{item.locations[0][0]}:{item.locations[0][1]}"
        entry = catalog.get(item.msgid, context=item.context)
        if entry is None:
            yield f"{where}: not in {_shown(path)}: {item.msgid!r}"
        elif entry.fuzzy:
            yield f"{where}: fuzzy: {item.msgid!r}"
        else:
            plural_entry = isinstance(entry.string, tuple | list)
            strings = list(entry.string) if plural_entry else [entry.string]
            if plural_entry != bool(item.plural) or not all(strings):
                yield f"{where}: untranslated: {item.msgid!r}"
                continue
            allowed = placeholders(item.msgid) | placeholders(item.plural or "")
            extra = set().union(*(placeholders(string) for string in strings)) - allowed
            if extra:
                yield f"{where}: the translation names {sorted(extra)}, which {item.msgid!r} does not"
    mo = path.with_suffix(".mo")
    if not mo.exists() or mo.read_bytes() != mo_bytes(domain, lang):
        yield f"{_shown(mo)}: not compiled from its .po (run `manage.py messages --compile`)"
