from django.core.management.base import BaseCommand

from commerce_core.events.outbox import relay_pending


class Command(BaseCommand):
    help = "Send outbox events that were committed but not sent (the worker does this every second)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=float, default=0.0, help="seconds since commit")

    def handle(self, *args, older_than, **options):
        self.stdout.write(f"relayed {relay_pending(older_than_seconds=older_than)} event(s)")
