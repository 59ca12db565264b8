"""Prepare one project before its processes start: `python -m devtools.setup_project`
with the project's folder as the working directory.

The same management commands as
`manage.py migrate --noinput && manage.py declare_event_queues && manage.py ensure_admin`
(then `manage.py seed_demo_data` when the project has that command, unless
`--no-seed`), run in one Django start-up instead of four.
"""

import os
import sys


def main() -> None:
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    import django

    django.setup()
    from django.core.management import call_command, get_commands

    steps = [("migrate", "--noinput"), ("declare_event_queues",), ("ensure_admin",)]
    if "seed_demo_data" in get_commands() and "--no-seed" not in sys.argv[1:]:
        steps.append(("seed_demo_data",))
    for name, *args in steps:
        print(f"$ manage.py {' '.join([name, *args])}", flush=True)
        call_command(name, *args)


if __name__ == "__main__":
    main()
