from django.db import models


class Effect(models.Model):
    """One row per handler run that committed: what 'the handler's effects' are here."""

    handler = models.CharField(max_length=50)
    thing_id = models.IntegerField()


class Tally(models.Model):
    """How often a thing was tallied: one row per thing, made by its first tally."""

    thing_id = models.IntegerField(unique=True)
    count = models.IntegerField(default=1)
