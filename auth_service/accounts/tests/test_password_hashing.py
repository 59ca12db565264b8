"""Passwords are stored with Argon2id; a PBKDF2 hash of before is upgraded at the
next login. These tests use the platform's real hashers (the test plugin swaps in a
fast one for every other test)."""

import platform
import resource

import pytest
from django.contrib.auth import hashers
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.contrib.auth.models import User

from commerce_core.identity import passwords
from commerce_core.settings import base

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_hashers(settings):
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS


def test_a_new_account_stores_its_password_with_argon2id_at_the_platforms_strength(api_client, real_hashers):
    response = api_client.post(
        "/api/auth/register/",
        {"username": "grace", "email": "grace@example.com", "password": PASSWORD},
        format="json",
    )

    assert response.status_code == 201, response.content
    stored = User.objects.get(username="grace").password
    assert stored.startswith("argon2$argon2id$v=19$m=36864,t=2,p=1$")


def test_a_pbkdf2_password_is_upgraded_to_argon2id_at_the_next_login(api_client, real_hashers):
    user = User.objects.create(username="ada", email="ada@example.com")
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save()

    first = api_client.post("/api/auth/token/", {"username": "ada", "password": PASSWORD}, format="json")

    assert first.status_code == 200, first.content
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    again = api_client.post("/api/auth/token/", {"username": "ada", "password": PASSWORD}, format="json")
    assert again.status_code == 200
    wrong = api_client.post("/api/auth/token/", {"username": "ada", "password": "not-the-password"}, format="json")
    assert wrong.status_code == 401


def test_the_argon2_setting_is_at_least_as_strong_as_djangos_pbkdf2_default_by_owasps_equivalence():
    pbkdf2 = hashers.PBKDF2PasswordHasher.iterations / passwords.OWASP_PBKDF2_ITERATIONS

    assert passwords.Argon2PasswordHasher.STRENGTH_OVER_OWASP >= pbkdf2


def test_an_argon2_hash_of_an_earlier_setting_is_rehashed_at_the_next_login(api_client, real_hashers):
    user = User.objects.create(username="ada", email="ada@example.com")
    earlier = hashers.Argon2PasswordHasher()
    earlier.time_cost, earlier.memory_cost = 3, 32 * 1024
    user.password = earlier.encode(PASSWORD, earlier.salt())
    user.save()

    response = api_client.post("/api/auth/token/", {"username": "ada", "password": PASSWORD}, format="json")

    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=36864,t=2,p=1$")


def test_a_stored_argon2_hash_is_verified_by_the_platforms_hasher_not_djangos_namesake(real_hashers):
    stored = make_password(PASSWORD)

    assert type(identify_hasher(stored)) is passwords.Argon2PasswordHasher


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the memory kept between hashes is glibc's malloc's")
def test_a_second_hash_reuses_the_memory_of_the_first_instead_of_faulting_in_36_mib_again(real_hashers):
    first = make_password(PASSWORD)

    faults_before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    assert check_password(PASSWORD, first)
    faults = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - faults_before

    # 36 MiB mapped afresh is 9,216 pages faulted in; reused, next to none.
    assert faults < 1_000
