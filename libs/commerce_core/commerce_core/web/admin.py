from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that only events or the service layer write (replicas, payments,
    the bus's own tables): operators look and search, and change nothing by hand,
    because a hand edit would disagree with what the other services were told."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """The lines of a read-only record (an order's, a reservation's), shown as they are."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields or [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
