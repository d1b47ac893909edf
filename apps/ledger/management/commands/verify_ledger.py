"""Recompute every community's hash chain and balances; name the first broken link."""

from django.core.management.base import BaseCommand, CommandError

from apps.ledger.chain import verify_community
from apps.peers.models import Community


class Command(BaseCommand):
    help = "Verify the ledger's hash chain and balances (all communities, or one with --community SLUG)."

    def add_arguments(self, parser):
        parser.add_argument("--community", help="Only this community (slug).")

    def handle(self, *args, community: str | None = None, **options) -> None:
        communities = Community.objects.order_by("slug")
        if community:
            communities = communities.filter(slug=community)
            if not communities.exists():
                raise CommandError(f"No community with slug {community!r}.")
        broken = []
        for each in communities:
            report = verify_community(community=each)
            line = f"{each.slug}: {report}"
            if report.ok:
                self.stdout.write(self.style.SUCCESS(line))
            else:
                self.stdout.write(self.style.ERROR(line))
                broken.append(each.slug)
        if broken:
            raise CommandError(f"Ledger verification failed for: {', '.join(broken)}")
