"""Thin HTTP layer: validate input, call a service, selector or token serializer,
serialize output.

Registration and tokens are public; `me` needs the identity the gateway vouches
for. The default authentication stays on the public views too, because it is what
makes DRF answer a failed sign-in with 401 rather than 403."""

from django.contrib.auth.validators import UnicodeUsernameValidator
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce_core.web.openapi import error_response
from commerce_core.web.serializers import OutputSerializer

from . import selectors, services, tokens


class RegisterInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=tokens.PASSWORD_MAX_LENGTH, style={"input_type": "password"}
    )


class RegisterOutputSerializer(OutputSerializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()


class TokenPairOutputSerializer(OutputSerializer):
    access = serializers.CharField(help_text="Access JWT, sent as `Authorization: Bearer <access>`.")
    refresh = serializers.CharField(help_text="Refresh JWT, exchanged at /api/auth/token/refresh/.")


class AccessTokenOutputSerializer(OutputSerializer):
    access = serializers.CharField(help_text="A new access JWT with the user's current claims.")


class MeOutputSerializer(RegisterOutputSerializer):
    is_staff = serializers.BooleanField()


class RegisterApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_register",
        auth=[],
        request=RegisterInputSerializer,
        examples=[
            OpenApiExample(
                "Ada",
                value={"username": "ada", "email": "ada@example.com", "password": "correct-horse-battery-staple"},
                request_only=True,
            )
        ],
        responses={
            201: RegisterOutputSerializer,
            400: error_response("Missing, malformed, taken or weak input, with field errors."),
        },
    )
    def post(self, request):
        data = RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        return Response(RegisterOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenObtainApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_token_obtain",
        auth=[],
        request=tokens.TokenObtainPairSerializer,
        examples=[
            OpenApiExample(
                "Ada", value={"username": "ada", "password": "correct-horse-battery-staple"}, request_only=True
            )
        ],
        responses={
            200: TokenPairOutputSerializer,
            400: error_response("Missing or overlong fields, or a body that is not JSON."),
            401: error_response("Wrong credentials or an inactive user."),
        },
    )
    def post(self, request):
        serializer = tokens.TokenObtainPairSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        return Response(TokenPairOutputSerializer(serializer.validated_data).data)


class TokenRefreshApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_token_refresh",
        auth=[],
        request=tokens.TokenRefreshSerializer,
        responses={
            200: AccessTokenOutputSerializer,
            400: error_response("Missing or overlong fields, or a body that is not JSON."),
            401: error_response("An invalid or expired refresh token, or its user is inactive."),
        },
    )
    def post(self, request):
        serializer = tokens.TokenRefreshSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        return Response(AccessTokenOutputSerializer(serializer.validated_data).data)


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_me",
        auth=[{"bearerAuth": []}],
        responses={200: MeOutputSerializer, 401: error_response("Not signed in, or the user is gone or inactive.")},
    )
    def get(self, request):
        # request.user is the gateway's Principal; the stored user has the email.
        user = selectors.user_get(user_id=request.user.id)
        if user is None or not user.is_active:
            # Its access token outlived it (at most ACCESS_TOKEN_LIFETIME).
            raise exceptions.AuthenticationFailed("User not found or inactive.", code="user_inactive")
        return Response(MeOutputSerializer(user).data)
