"""The Merkle log over the entries already recorded (apps/ledger/log.py): every chain's
subtrees, built once from its entries in seq order; the database's refusal of changes to
the log's append-only tables (PostgreSQL); and the 5-minute checkpoint sweep."""

from django.db import migrations
from django.utils import timezone

from p2pcommons.db import append_only_triggers

TASK_NAME = "ledger: sign checkpoints"
TASK = "apps.ledger.tasks.publish_due_checkpoints"

COLUMNS = (
    "seq",
    "community_id",
    "account_id",
    "amount",
    "balance_after",
    "transfer_id",
    "transfer__amount",
    "transfer__source_id",
    "transfer__target_id",
    "transfer__currency",
    "transfer__kind",
    "transfer__memo",
    "transfer__idempotency_key",
    "transfer__reverses_id",
    "transfer__created_at",
)


def _documents(Entry, community_id):
    from apps.ledger.chain import instant, money  # noqa: PLC0415 - pure formatting helpers
    from scripts.verify_ledger_export import CANONICAL_VERSION  # noqa: PLC0415

    rows = Entry.objects.filter(community_id=community_id).order_by("seq").values_list(*COLUMNS)
    for row in rows.iterator(chunk_size=2000):
        (seq, community, account, amount, after, transfer, t_amount, source, target, currency, kind, memo, key,
         reverses, created) = row  # fmt: skip
        yield {
            "v": CANONICAL_VERSION,
            "seq": seq,
            "community": community,
            "account": account,
            "amount": money(amount),
            "balance_after": money(after),
            "transfer": transfer,
            "transfer_amount": money(t_amount),
            "source": source,
            "target": target,
            "currency": currency,
            "kind": kind,
            "memo": memo,
            "idempotency_key": key,
            "reverses": reverses,
            "created_at": instant(created),
        }


def backfill(apps, schema_editor):
    from apps.ledger import merkle  # noqa: PLC0415 - standard library only
    from scripts.verify_ledger_export import canonical  # noqa: PLC0415

    Chain = apps.get_model("ledger", "Chain")
    Entry = apps.get_model("ledger", "Entry")
    LogNode = apps.get_model("ledger", "LogNode")
    for community_id in Chain.objects.filter(last_seq__gt=0).values_list("community_id", flat=True):
        if LogNode.objects.filter(community_id=community_id).exists():
            continue
        compact, batch = merkle.CompactRange(), []
        for document in _documents(Entry, community_id):
            for node in compact.append(merkle.leaf_hash(canonical(document).encode("utf-8"))):
                batch.append(LogNode(community_id=community_id, level=node.level, index=node.index, hash=node.hash))
            if len(batch) >= 5000:
                LogNode.objects.bulk_create(batch)
                batch = []
        LogNode.objects.bulk_create(batch)


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every = IntervalSchedule.objects.filter(every=5, period="minutes").order_by("id").first()
    if every is None:
        every = IntervalSchedule.objects.create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(name=TASK_NAME, defaults={"task": TASK, "interval": every})
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0004_merkle_log"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
        append_only_triggers(
            tables=(
                "ledger_lognode",
                "ledger_checkpoint",
                "ledger_cosignature",
                "ledger_witnessview",
                "ledger_logalarm",
            ),
            function="ledger_log_refuse_change",
            message="the ledger's Merkle log, checkpoints and witness records are append-only",
        ),
        migrations.RunPython(schedule, unschedule),
    ]
