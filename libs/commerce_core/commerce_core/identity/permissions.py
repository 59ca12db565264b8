from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsStaff(BasePermission):
    message = "Staff only."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)


class IsStaffOrReadOnly(BasePermission):
    message = "Staff only."

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return IsStaff().has_permission(request, view)
