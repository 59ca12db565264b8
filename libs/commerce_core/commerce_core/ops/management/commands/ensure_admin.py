from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the staff superuser from ADMIN_USERNAME / ADMIN_PASSWORD if there is no user of that name. "
        "An existing user is left exactly as it is: a password changed since is never reset."
    )

    def handle(self, *args, **options):
        username = settings.ADMIN_USERNAME
        users = get_user_model().objects
        if users.filter(username__iexact=username).exists():
            self.stdout.write(f"kept admin user {username!r} as it is")
            return
        users.create_superuser(username=username, email=settings.ADMIN_EMAIL, password=settings.ADMIN_PASSWORD)
        self.stdout.write(f"created admin user {username!r}")
