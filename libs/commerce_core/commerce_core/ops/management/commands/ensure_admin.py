from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from commerce_core.settings.env import env


class Command(BaseCommand):
    help = "Create or update the staff superuser from ADMIN_USERNAME / ADMIN_PASSWORD (defaults admin/admin)."

    def handle(self, *args, **options):
        username = env.str("ADMIN_USERNAME", default="admin")
        password = env.str("ADMIN_PASSWORD", default="admin")
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": env.str("ADMIN_EMAIL", default=f"{username}@example.com")}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        if created or not user.check_password(password):
            user.set_password(password)
        user.save()
        self.stdout.write(f"{'created' if created else 'kept'} admin user {username!r}")
