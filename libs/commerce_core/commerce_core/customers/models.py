from django.db import models


class CustomerReplica(models.Model):
    """What a service knows of a user, learnt from auth events only."""

    user_id = models.PositiveBigIntegerField(primary_key=True)
    username = models.CharField(max_length=150)
    email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)
    # When auth published the state held here: an event older than this is stale.
    as_of = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id"]

    def __str__(self):
        return self.username
