"""What a service stores about the events it publishes (outbox), consumes (inbox)
and could not consume (dead letters). Every service has these three tables in its
own database; the admin shows them so an operator can follow an event through."""

from django.db import models


class OutboxMessage(models.Model):
    """An event stored in the same transaction as the change that caused it."""

    event_id = models.UUIDField(primary_key=True)
    event_type = models.CharField(max_length=100, db_index=True)
    subject = models.CharField(max_length=100, blank=True, db_index=True, help_text="What it is about, e.g. order/42.")
    correlation_id = models.CharField(max_length=128, blank=True, db_index=True)
    envelope = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    #: The broker's epoch when it was sent (Redis): sent in an epoch the broker has
    #: since lost, it is sent again (see worker.Housekeeping).
    sent_epoch = models.CharField(max_length=32, blank=True)
    send_attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["sent_at", "created_at"], name="outbox_pending_idx")]

    def __str__(self):
        return f"{self.event_type} {self.event_id}"


class InboxMessage(models.Model):
    """One row per (event, handler) that has run: the handler's effects and this row
    commit together, so a redelivered event finds the row and changes nothing."""

    event_id = models.UUIDField()
    handler = models.CharField(max_length=200)
    event_type = models.CharField(max_length=100, db_index=True)
    source = models.CharField(max_length=100)
    subject = models.CharField(max_length=100, blank=True, db_index=True, help_text="What it is about, e.g. order/42.")
    correlation_id = models.CharField(max_length=128, blank=True, db_index=True)
    processed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-processed_at"]
        constraints = [models.UniqueConstraint(fields=["event_id", "handler"], name="inbox_once_per_handler")]

    def __str__(self):
        return f"{self.event_type} {self.event_id} → {self.handler}"


class ScheduledRetry(models.Model):
    """A handler that failed on an event, to be run again at `next_attempt_at`.

    Stored in the same transaction that records the event's other outcomes, before
    the message is acknowledged: a retry lives in the service's database, not in
    the broker, so it survives a broker restart, a worker crash and an outage of
    any length, and the worker that runs it needs no broker round trip."""

    event_id = models.UUIDField()
    handler = models.CharField(max_length=200)
    event_type = models.CharField(max_length=100, db_index=True)
    subject = models.CharField(max_length=100, blank=True, db_index=True)
    envelope = models.JSONField()
    attempts = models.PositiveIntegerField(help_text="Runs that failed so far.")
    next_attempt_at = models.DateTimeField(db_index=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["next_attempt_at"]
        constraints = [models.UniqueConstraint(fields=["event_id", "handler"], name="retry_once_per_handler")]

    def __str__(self):
        return f"{self.event_type} {self.event_id} → {self.handler} (attempt {self.attempts + 1})"


class DeadLetter(models.Model):
    """An event a handler could not process after every retry, or a malformed message.

    Replaying (admin action or `manage.py replay_dead_letters`) schedules the handler
    again with a fresh retry budget; the inbox keeps a replay from having any effect
    twice."""

    event_id = models.CharField(max_length=64, blank=True, db_index=True)
    event_type = models.CharField(max_length=100, blank=True, db_index=True)
    handler = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=100, blank=True, db_index=True)
    body = models.JSONField(help_text="The message as received.")
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    malformed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    replayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.event_type or 'malformed'} {self.event_id} ({self.handler or 'no handler'})"


class BusState(models.Model):
    """Small facts the bus keeps about itself in this service's database, such as
    the broker epoch it last saw (a changed epoch means the broker lost its queues)."""

    key = models.CharField(max_length=100, primary_key=True)
    value = models.CharField(max_length=200)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.key} = {self.value}"
