"""Columns of every kind a client's input ends in, for the tests of commerce_core.web."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Shelf(models.Model):
    name = models.CharField(max_length=50)


class Item(models.Model):
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(max_length=40)
    price = models.DecimalField(max_digits=6, decimal_places=2)
    count = models.PositiveIntegerField(default=0)
    rating = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(5)])
    placed_at = models.DateTimeField()
