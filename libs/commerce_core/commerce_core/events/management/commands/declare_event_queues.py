from django.core.management.base import BaseCommand

from commerce_core.events.transport import declare_queues


class Command(BaseCommand):
    help = "Create this service's event queues and their bindings in Redis (safe to run again)."

    def handle(self, *args, **options):
        for name in declare_queues():
            self.stdout.write(f"declared {name}")
