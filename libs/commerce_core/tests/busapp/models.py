from django.db import models


class Effect(models.Model):
    """One row per handler run that committed: what 'the handler's effects' are here."""

    handler = models.CharField(max_length=50)
    thing_id = models.IntegerField()
