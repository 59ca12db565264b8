"""`manage.py seed_demo_data`: a customer to try the shop with (`make run` runs it)."""

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from commerce_core.settings.env import env
from commerce_core.web.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Register the demo customer from DEMO_USERNAME / DEMO_PASSWORD (defaults demo / demo-password-123) "
        "unless a user of that name exists."
    )

    def handle(self, *args, **options):
        username = env.str("DEMO_USERNAME", default="demo")
        password = env.str("DEMO_PASSWORD", default="demo-password-123")
        email = env.str("DEMO_EMAIL", default=f"{username}@example.com")
        try:
            # Through the service layer, so the other services hear of the customer
            # (auth.user.registered) like of any other.
            user, created = services.user_ensure_registered(username=username, email=email, password=password)
        except ApplicationError as exc:
            raise CommandError(f"cannot register the demo customer {username!r}: {exc.fields or exc.message}") from None
        if created:
            self.stdout.write(f"created demo customer {user.username!r} with password {password!r}")
        else:
            self.stdout.write(f"kept demo customer {user.username!r} (its password is left as it is)")
