"""Output serializers build their fields once per class, and still render exactly
what DRF renders, with fields of their own for every instance."""

import threading

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import Field

from commerce_core.web.serializers import ModelOutputSerializer, OutputSerializer
from tests.inputapp.factories import make_item
from tests.inputapp.models import Item

pytestmark = pytest.mark.django_db

FIELDS = ["id", "shelf", "name", "price", "count", "rating", "placed_at"]


class PlainItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = FIELDS


def item_output_serializer():
    """A class of its own per test, so that no test sees fields another one built."""

    class ItemOutput(ModelOutputSerializer):
        class Meta:
            model = Item
            fields = FIELDS

    return ItemOutput


def test_a_model_output_serializer_renders_what_drfs_model_serializer_renders():
    items = [make_item(name="Mug", price="9.90"), make_item(name="Pan", price="30.00", count=0)]
    serializer = item_output_serializer()
    assert serializer(items[0]).data == PlainItemSerializer(items[0]).data
    assert serializer(items, many=True).data == PlainItemSerializer(items, many=True).data


def test_fields_are_built_once_per_class(monkeypatch):
    built = []
    original = serializers.ModelSerializer.get_fields

    def counting_get_fields(self):
        built.append(type(self).__name__)
        return original(self)

    monkeypatch.setattr(serializers.ModelSerializer, "get_fields", counting_get_fields)
    serializer = item_output_serializer()
    item = make_item()
    for _ in range(3):
        assert serializer(item).data["name"] == "Mug"
    assert built == ["ItemOutput"]


def test_every_instance_gets_fields_of_its_own_bound_to_itself():
    serializer = item_output_serializer()
    first, second = serializer(), serializer()
    for name in FIELDS:
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first
        assert second.fields[name].parent is second


def test_a_subclass_builds_its_own_fields():
    parent = item_output_serializer()

    class WithTotal(parent):
        total = serializers.IntegerField(source="count")

        class Meta(parent.Meta):
            fields = [*FIELDS, "total"]

    assert "total" not in parent().fields  # the parent's fields are built first
    assert "total" in WithTotal().fields
    assert "total" not in parent().fields


def test_nested_serializers_are_never_shared_between_instances():
    class Line(OutputSerializer):
        name = serializers.CharField()

    class Order(OutputSerializer):
        lines = Line(many=True)

    first, second = Order(), Order()
    assert first.fields["lines"] is not second.fields["lines"]
    assert first.fields["lines"].child is not second.fields["lines"].child
    assert Order({"lines": [{"name": "mug"}]}).data == {"lines": [{"name": "mug"}]}


def test_date_times_render_in_the_default_time_zone_without_asking_for_the_active_one(monkeypatch):
    item = make_item()
    expected = PlainItemSerializer(item).data["placed_at"]
    serializer = item_output_serializer()
    assert serializer().fields  # built before the lookup is forbidden

    def no_lookup():
        raise AssertionError("the active time zone was looked up for a value")

    monkeypatch.setattr(timezone, "get_current_timezone", no_lookup)
    assert serializer(item).data["placed_at"] == expected == "2026-01-01T00:00:00Z"


def test_a_date_time_field_with_a_time_zone_of_its_own_keeps_it():
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")

    class InParis(OutputSerializer):
        placed_at = serializers.DateTimeField(default_timezone=paris)

    assert InParis({"placed_at": make_item().placed_at}).data["placed_at"] == "2026-01-01T01:00:00+01:00"


def test_serializers_built_side_by_side_in_threads_render_the_same():
    serializer = item_output_serializer()
    item = make_item()
    results, errors = [], []

    def render():
        try:
            for _ in range(50):
                results.append(serializer(item).data)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=render) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(result == PlainItemSerializer(item).data for result in results)


def test_columns_are_read_without_drfs_generic_lookup(monkeypatch):
    items = [make_item(name="Mug"), make_item(name="Pan")]
    expected = PlainItemSerializer(items, many=True).data
    looked_up = []
    generic_lookup = Field.get_attribute

    def counting_lookup(self, instance):
        looked_up.append(self.field_name)
        return generic_lookup(self, instance)

    monkeypatch.setattr(Field, "get_attribute", counting_lookup)
    assert item_output_serializer()(items, many=True).data == expected
    assert looked_up == []  # `shelf` is a related field: DRF's own lookup of the key


def test_other_sources_and_other_instances_go_drfs_way():
    class Odd(OutputSerializer):
        name = serializers.CharField()
        shelf_name = serializers.CharField(source="shelf.name")
        doubled = serializers.SerializerMethodField()

        def get_doubled(self, item):
            return item["count"] * 2 if isinstance(item, dict) else item.count * 2

    class WithCallable(ModelOutputSerializer):
        label = serializers.CharField(source="shelf.__str__")  # a method DRF calls

        class Meta:
            model = Item
            fields = ["name", "label"]

    item = make_item(name="Mug", count=3)
    as_dict = {"name": "Cup", "shelf": {"name": "Attic"}, "count": 1}
    assert Odd([item, as_dict], many=True).data == [
        {"name": "Mug", "shelf_name": "Kitchen", "doubled": 6},
        {"name": "Cup", "shelf_name": "Attic", "doubled": 2},
    ]
    assert WithCallable(item).data == {"name": "Mug", "label": str(item.shelf)}
