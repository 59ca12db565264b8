from django.core.management.base import BaseCommand, CommandError

from commerce_core.events.delivery import replay
from commerce_core.events.models import DeadLetter


class Command(BaseCommand):
    help = (
        "Schedule parked events again with a fresh retry budget: the given dead-letter ids, "
        "or every one not yet replayed. A letter is replayed once; malformed messages cannot be."
    )

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="dead-letter ids (default: all not yet replayed)")

    def handle(self, *args, ids, **options):
        letters = DeadLetter.objects.filter(pk__in=ids) if ids else DeadLetter.objects.filter(replayed_at__isnull=True)
        if ids and letters.count() != len(set(ids)):
            raise CommandError("unknown dead-letter id")
        replayed = sum(replay(letter) for letter in letters.order_by("created_at"))
        self.stdout.write(f"replayed {replayed} event(s)")
