from django.contrib import admin

from commerce_core.web.admin import ReadOnlyAdmin

from .models import CustomerReplica


@admin.register(CustomerReplica)
class CustomerReplicaAdmin(ReadOnlyAdmin):
    """The replica is written by the handlers only, so an operator can compare it
    with auth's users without it drifting from them."""

    list_display = ["user_id", "username", "email", "is_active", "as_of", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["user_id", "username", "email"]
