from django.core.management.base import BaseCommand, CommandError

from commerce_core.events.consumer import replay
from commerce_core.events.models import DeadLetter


class Command(BaseCommand):
    help = "Send parked events back to this service's queue: the given ids, or every one not yet replayed."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="dead-letter ids (default: all not yet replayed)")
        parser.add_argument(
            "--include-malformed",
            action="store_true",
            help="also replay malformed messages (they will be parked again unless fixed)",
        )

    def handle(self, *args, ids, include_malformed, **options):
        letters = DeadLetter.objects.filter(pk__in=ids) if ids else DeadLetter.objects.filter(replayed_at__isnull=True)
        if not include_malformed:
            letters = letters.filter(malformed=False)
        if ids and letters.count() != len(set(ids)):
            raise CommandError("unknown dead-letter id, or a malformed one without --include-malformed")
        count = 0
        for letter in letters.order_by("created_at"):
            replay(letter)
            count += 1
        self.stdout.write(f"replayed {count} event(s)")
