"""The fault drills: the real platform, broken on purpose, and what it lost (nothing).
See `__main__.py` for how they run and `scenarios.py` for what each does."""
