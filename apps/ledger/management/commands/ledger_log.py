"""The signed ledger logs: show each community's log name and public keys, or sign now.

python manage.py ledger_log keys        what to give members and neighbouring witnesses
python manage.py ledger_log publish     sign a checkpoint for every log that grew
"""

from django.core.management.base import BaseCommand, CommandError

from apps.ledger import log
from apps.peers.models import Community


class Command(BaseCommand):
    help = "Show the ledger logs' names and public keys (keys), or sign their checkpoints now (publish)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["keys", "publish"])
        parser.add_argument("--community", help="Only this community (slug).")

    def handle(self, *args, action: str, community: str | None = None, **options) -> None:
        communities = Community.objects.order_by("slug")
        if community:
            communities = communities.filter(slug=community)
            if not communities.exists():
                raise CommandError(f"No community with slug {community!r}.")
        for each in communities:
            if action == "keys":
                origin, vkey = log.log_identity(each)
                self.stdout.write(f"{each.slug}\n  log:     {origin}\n  key:     {vkey}")
                self.stdout.write(f"  witness: {log.witness_signer(each).verifier.vkey}")
                continue
            try:
                checkpoint = log.publish_checkpoint(community=each)
            except log.LogKeyMismatch as exc:
                raise CommandError(str(exc)) from exc
            if checkpoint is None:
                self.stdout.write(f"{each.slug}: nothing new to sign")
            else:
                self.stdout.write(
                    self.style.SUCCESS(f"{each.slug}: checkpoint {checkpoint.number} of {checkpoint.size} entries")
                )
