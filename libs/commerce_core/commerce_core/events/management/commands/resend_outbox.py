from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from commerce_core.events.outbox import relay_pending, resend_since


def moment(value: str) -> datetime:
    """An ISO 8601 time (`2026-05-01T10:00:00+00:00`) or a duration back from now (`15m`, `2h`, `90s`)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if value and value[-1] in units and value[:-1].replace(".", "", 1).isdigit():
        return timezone.now() - timedelta(seconds=float(value[:-1]) * units[value[-1]])
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since takes an ISO 8601 time or a duration such as 15m, not {value!r}") from None
    return parsed if parsed.tzinfo else timezone.make_aware(parsed)


class Command(BaseCommand):
    help = (
        "Send again every event this service published since a point in time: after the broker "
        "lost queued messages (a Redis restarted without persistence) for longer than the worker's "
        "automatic window. Consumers skip the events they already handled."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, type=moment, help="ISO 8601 time, or a duration: 15m, 2h")
        parser.add_argument(
            "--now", action="store_true", help="send them from this command instead of leaving it to the worker"
        )

    def handle(self, *args, since, now, **options):
        count = resend_since(since)
        self.stdout.write(f"{count} event(s) published since {since.isoformat()} marked to be sent again")
        if now:
            sent = 0
            while True:
                batch = relay_pending(older_than_seconds=0)
                sent += batch
                if not batch:
                    break
            self.stdout.write(f"sent {sent} event(s)")
