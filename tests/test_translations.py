"""Every string marked for translation is translated, in every catalog, and the
catalogs the site loads are compiled from them (p2pcommons/catalogs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation

from p2pcommons import catalogs
from p2pcommons.i18n import Amount, Message

DOMAINS = catalogs.domains()


@pytest.mark.parametrize("domain", DOMAINS, ids=[d.name for d in DOMAINS])
@pytest.mark.parametrize("lang", catalogs.target_languages())
def test_every_marked_string_is_translated(domain, lang):
    problems = list(catalogs.missing(domain, lang))
    assert not problems, "Run `manage.py messages` and translate:\n" + "\n".join(problems[:40])


def test_the_site_offers_english_and_dutch(settings):
    assert [code for code, _ in settings.LANGUAGES] == ["en", "nl"]


def _domain(tmp_path: Path) -> catalogs.Domain:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(
        "{% load i18n %}<h1>{% translate 'Borrow a ladder' %}</h1>"
        "{% blocktranslate trimmed count n=items|length %}\n  One tool\n{% plural %}\n  {{ n }} tools\n"
        "{% endblocktranslate %}<p>Not marked</p>{% translate 'May' context 'month' %}"
    )
    (tmp_path / "code.py").write_text(
        "from django.utils.translation import gettext as _, gettext_lazy\n"
        "LABEL = gettext_lazy('Your neighbors')\n"
        "def f(name):\n    return _('Hello %(name)s') % {'name': name}\n"
        "TEXT = Message('{name} sent you {amount}', name='x', amount='y')\n"
    )
    return catalogs.Domain("sample", tmp_path / "locale", (tmp_path,))


def test_the_extractor_finds_template_and_python_strings_and_nothing_else(tmp_path):
    found = catalogs.extract_domain(_domain(tmp_path))
    keys = {(context, msgid) for context, msgid in found}
    assert keys == {
        (None, "Borrow a ladder"),
        (None, "One tool"),
        ("month", "May"),
        (None, "Your neighbors"),
        (None, "Hello %(name)s"),
        (None, "{name} sent you {amount}"),
    }
    assert found[(None, "One tool")].plural == "%(n)s tools"


def test_an_untranslated_a_fuzzy_and_a_broken_entry_are_each_reported(tmp_path, settings):
    domain = _domain(tmp_path)
    catalogs.update(domain, "nl")
    problems = list(catalogs.missing(domain, "nl"))
    assert len([p for p in problems if "untranslated" in p]) == 6

    po = catalogs.po_path(domain, "nl")
    text = po.read_text()
    text = text.replace('msgid "Borrow a ladder"\nmsgstr ""', 'msgid "Borrow a ladder"\nmsgstr "Leen een ladder"')
    text = text.replace('msgid "Hello %(name)s"\nmsgstr ""', 'msgid "Hello %(name)s"\nmsgstr "Hallo %(naam)s"')
    text = text.replace('msgid "Your neighbors"\nmsgstr ""', '#, fuzzy\nmsgid "Your neighbors"\nmsgstr "Je buren"')
    po.write_text(text)
    catalogs.compile_catalog(domain, "nl")
    problems = list(catalogs.missing(domain, "nl"))
    assert not any("Borrow a ladder" in p for p in problems)
    assert any("fuzzy" in p and "Your neighbors" in p for p in problems)
    assert any("naam" in p for p in problems)  # a placeholder the English does not have

    po.write_text(po.read_text() + '\nmsgid "Extra"\nmsgstr "Extra"\n')
    assert any("not compiled" in p for p in catalogs.missing(domain, "nl"))


def test_update_keeps_translations_and_drops_strings_no_longer_in_the_code(tmp_path):
    domain = _domain(tmp_path)
    catalogs.update(domain, "nl")
    po = catalogs.po_path(domain, "nl")
    text = po.read_text().replace('msgid "Borrow a ladder"\nmsgstr ""', 'msgid "Borrow a ladder"\nmsgstr "Leen"')
    po.write_text(text)
    (tmp_path / "code.py").write_text("x = 1\n")
    catalogs.update(domain, "nl")
    text = po.read_text()
    assert 'msgstr "Leen"' in text and "Your neighbors" not in text


def test_a_message_is_put_together_in_the_readers_language():
    message = Message("{name} sent you {amount}", name="Olive", amount=Amount("2", "HOUR"))
    assert message.english() == "Olive sent you 2 hours"
    restored = Message.from_json(message.to_json())
    assert restored.english() == "Olive sent you 2 hours"
    with translation.override("nl"):
        assert str(Amount("1.5", "HOUR")) == "1,50 uur"
