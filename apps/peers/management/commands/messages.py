"""``manage.py messages``: keep the translation catalogs in step with the code.

    manage.py messages            # add new strings (untranslated), drop gone ones, compile
    manage.py messages --check    # list every string not translated; exit 1 if any
    manage.py messages --compile  # only compile the .po files to .mo
    manage.py messages --domain tools   # one catalog (an app's name, or "project")

Pure Python (Babel): no GNU gettext needed. See p2pcommons/catalogs.py.
"""

from django.core.management.base import BaseCommand, CommandError

from p2pcommons import catalogs


class Command(BaseCommand):
    help = "Update, compile or check the translation catalogs."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="List untranslated strings; fail if any.")
        parser.add_argument("--compile", action="store_true", help="Only compile .po to .mo.")
        parser.add_argument("--domain", action="append", help="Only this catalog (repeatable).")

    def handle(self, *args, check=False, compile=False, domain=None, **options):
        chosen = [d for d in catalogs.domains() if not domain or d.name in domain]
        if domain and not chosen:
            raise CommandError(f"No catalog named {', '.join(domain)}.")
        problems = 0
        for d in chosen:
            for lang in catalogs.target_languages():
                if check:
                    for line in catalogs.missing(d, lang):
                        problems += 1
                        self.stdout.write(line)
                elif compile:
                    if catalogs.po_path(d, lang).exists():
                        catalogs.compile_catalog(d, lang)
                else:
                    total, untranslated = catalogs.update(d, lang)
                    if total:
                        self.stdout.write(f"{d.name} [{lang}]: {total} strings, {untranslated} to translate")
        if check:
            if problems:
                raise CommandError(f"{problems} problem(s) in the catalogs.")
            self.stdout.write("Every catalog is complete.")
