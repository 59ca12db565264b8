from django import forms

#: The auth service's bounds: nothing longer reaches it.
USERNAME_MAX_LENGTH = 150
PASSWORD_MAX_LENGTH = 1024


class SignInForm(forms.Form):
    username = forms.CharField(max_length=USERNAME_MAX_LENGTH, widget=forms.TextInput(attrs={"autofocus": True}))
    password = forms.CharField(
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
