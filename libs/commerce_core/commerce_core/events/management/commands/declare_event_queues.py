from django.core.management.base import BaseCommand

from commerce_core.events.broker import default_broker
from commerce_core.events.routing import all_queues


class Command(BaseCommand):
    help = (
        "Create every service's durable event queue on the broker (safe to run again). "
        "On RabbitMQ this lets events wait for a service that has never run; "
        "on Redis a queue exists as soon as an event is put into it."
    )

    def handle(self, *args, **options):
        broker = default_broker()
        queues = all_queues()
        broker.declare(queues)
        broker.epoch()  # so that a later loss of the broker's data is noticed
        for name in queues:
            self.stdout.write(f"declared {name}")
