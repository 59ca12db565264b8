from django.contrib import admin, messages

from ..web.admin import ReadOnlyAdmin
from .delivery import replay
from .models import DeadLetter, InboxMessage, OutboxMessage, ScheduledRetry


class EventRecordAdmin(ReadOnlyAdmin):
    # Old records may be pruned by hand; none may be written.
    def has_delete_permission(self, request, obj=None):
        return True


@admin.register(OutboxMessage)
class OutboxMessageAdmin(EventRecordAdmin):
    list_display = ["event_type", "subject", "event_id", "correlation_id", "created_at", "sent_at", "send_attempts"]
    list_filter = ["event_type", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["=subject", "event_id", "correlation_id", "event_type"]
    date_hierarchy = "created_at"


@admin.register(InboxMessage)
class InboxMessageAdmin(EventRecordAdmin):
    list_display = ["event_type", "subject", "event_id", "handler", "source", "correlation_id", "processed_at"]
    list_filter = ["event_type", "source", "handler"]
    search_fields = ["=subject", "event_id", "correlation_id"]
    date_hierarchy = "processed_at"


@admin.register(ScheduledRetry)
class ScheduledRetryAdmin(EventRecordAdmin):
    list_display = ["next_attempt_at", "event_type", "subject", "event_id", "handler", "attempts", "last_error"]
    list_filter = ["event_type", "handler"]
    search_fields = ["=subject", "event_id", "handler", "last_error"]


@admin.register(DeadLetter)
class DeadLetterAdmin(EventRecordAdmin):
    list_display = [
        "created_at",
        "event_type",
        "subject",
        "event_id",
        "handler",
        "attempts",
        "malformed",
        "replayed_at",
    ]
    list_filter = ["event_type", "malformed", ("replayed_at", admin.EmptyFieldListFilter)]
    search_fields = ["=subject", "event_id", "handler", "error"]
    actions = ["replay_selected"]

    @admin.action(description="Replay the selected events")
    def replay_selected(self, request, queryset):
        count = sum(replay(letter) for letter in queryset)
        self.message_user(request, f"Scheduled {count} event(s) again.", messages.SUCCESS)
