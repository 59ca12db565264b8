"""Django's user admin, saving through `services.user_save` so that an edit here
announces itself (`auth.user.updated`) in the same transaction, like any other."""

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.models import User

from . import services


class ServiceRulesMixin:
    """Checks the rules `services.user_save` enforces while the form can still show
    them, so a taken email is a form error here rather than a failed save."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "email" in self.fields:
            self.fields["email"].required = True

    def _post_clean(self):
        super()._post_clean()  # copies the cleaned fields onto self.instance
        user = self.instance
        taken = services.availability_errors(username=user.username, email=user.email, user_id=user.pk)
        for field, messages in taken.items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, messages)


class UserChangeForm(ServiceRulesMixin, auth_forms.UserChangeForm):
    pass


class UserCreationForm(ServiceRulesMixin, auth_forms.AdminUserCreationForm):
    class Meta(auth_forms.AdminUserCreationForm.Meta):
        fields = ("username", "email")


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "usable_password", "password1", "password2")}),
    )
    list_display = ("username", "email", "is_active", "is_staff", "date_joined")

    def save_model(self, request, obj, form, change):
        services.user_save(user=obj)
