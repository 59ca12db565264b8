"""Usernames and emails unique regardless of case, in the database itself.

`auth.User` is Django's model, so the constraints cannot be declared on it; they
are added here as expression indexes (SQLite and PostgreSQL both have them). The
services check first and give field errors; these indexes decide races between
two registrations. Blank emails are left out: users created before emails were
required (`createsuperuser` makes them) may share the empty one."""

from django.db import migrations, models
from django.db.models.functions import Lower

CONSTRAINTS = [
    models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
    models.UniqueConstraint(Lower("email"), condition=~models.Q(email=""), name="accounts_user_email_ci_unique"),
]


def add_constraints(apps, schema_editor):
    user = apps.get_model("auth", "User")
    for constraint in CONSTRAINTS:
        schema_editor.add_constraint(user, constraint)


def remove_constraints(apps, schema_editor):
    user = apps.get_model("auth", "User")
    for constraint in CONSTRAINTS:
        schema_editor.remove_constraint(user, constraint)


class Migration(migrations.Migration):
    initial = True

    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(add_constraints, remove_constraints, elidable=False)]
