"""`manage.py seed_demo_data`: a small shop to click through after `make run`.

Run at every start, so it must be cheap and change nothing the second time: a
category is matched by its slug (or name) and a product by its name, and whatever exists
already is left as it is (including stock and prices staff have changed since).
Products are created through services.product_create, so the cart and review
services learn of them from the usual events.
"""

from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q

from catalog import services
from catalog.models import Category, Product

# slug: (name, description)
CATEGORIES = {
    "kitchen": ("Kitchen", "Cookware, knives and the small tools that make cooking easy."),
    "coffee-tea": ("Coffee & Tea", "Beans, leaves and everything to brew them."),
    "home-office": ("Home Office", "Desks, lamps and accessories for working from home."),
    "audio": ("Audio", "Headphones and speakers for music and calls."),
    "outdoor": ("Outdoor", "Gear for hiking, camping and the garden."),
    "books": ("Books", "Cookbooks, field guides and a few good reads."),
}

# (category slug, name, description, price, stock)
PRODUCTS = [
    ("kitchen", "Cast Iron Skillet 26 cm", "Pre-seasoned, oven safe, lasts for generations.", "39.90", 25),
    ("kitchen", "Chef's Knife 20 cm", "Forged stainless steel with a full tang.", "59.00", 18),
    ("kitchen", "Bamboo Cutting Board", "Large end-grain board, kind to knife edges.", "24.50", 40),
    ("kitchen", "Stainless Mixing Bowl Set", "Three nesting bowls with non-slip bases.", "29.99", 30),
    ("kitchen", "Silicone Spatula Trio", "Heat resistant to 260 °C, dishwasher safe.", "12.90", 60),
    ("kitchen", "Dutch Oven 5 l", "Enamelled cast iron for stews and bread.", "89.00", 10),
    ("kitchen", "Digital Kitchen Scale", "Weighs up to 5 kg to the gram.", "19.95", 35),
    ("coffee-tea", "Espresso Beans 1 kg", "Dark roast blend with notes of cocoa.", "21.90", 50),
    ("coffee-tea", "Single Origin Ethiopia 250 g", "Light roast, floral and bright.", "11.50", 45),
    ("coffee-tea", "Pour-Over Dripper", "Ceramic cone for one or two cups.", "18.00", 28),
    ("coffee-tea", "Gooseneck Kettle", "Precise pour, 1 litre, works on induction.", "42.00", 15),
    ("coffee-tea", "Burr Coffee Grinder", "Forty grind settings from espresso to French press.", "79.00", 12),
    ("coffee-tea", "Sencha Green Tea 100 g", "Steamed Japanese green tea, grassy and sweet.", "9.80", 70),
    ("coffee-tea", "Glass Teapot with Infuser", "800 ml borosilicate glass.", "26.40", 20),
    ("home-office", "Standing Desk Converter", "Raises any desk to standing height in seconds.", "149.00", 8),
    ("home-office", "LED Desk Lamp", "Dimmable, three colour temperatures, USB charging port.", "34.90", 32),
    ("home-office", "Ergonomic Mouse", "Vertical grip that spares the wrist.", "29.00", 40),
    ("home-office", "Mechanical Keyboard", "Tactile switches, aluminium frame.", "99.00", 14),
    ("home-office", "Monitor Arm", "Gas spring arm for screens up to 32 inches.", "64.00", 16),
    ("home-office", "Felt Desk Mat", "80 × 30 cm, wool felt.", "22.00", 50),
    ("home-office", "Notebook A5 Dotted", "192 pages of 100 g paper.", "14.50", 90),
    ("audio", "Wireless Headphones", "Over-ear, active noise cancelling, 30 h battery.", "189.00", 12),
    ("audio", "True Wireless Earbuds", "Compact case, splash resistant.", "79.90", 30),
    ("audio", "Bluetooth Speaker", "Waterproof, 12 h of music.", "59.90", 22),
    ("audio", "USB Microphone", "Cardioid condenser for calls and podcasts.", "69.00", 15),
    ("audio", "Bookshelf Speakers (pair)", "Powered, with optical and Bluetooth inputs.", "229.00", 6),
    ("audio", "Headphone Stand", "Walnut and aluminium.", "27.00", 25),
    ("outdoor", "Daypack 22 l", "Light hiking pack with a rain cover.", "54.00", 20),
    ("outdoor", "Insulated Water Bottle 750 ml", "Keeps drinks cold for 24 hours.", "24.90", 55),
    ("outdoor", "Two-Person Tent", "Freestanding, 2.1 kg, sets up in five minutes.", "199.00", 7),
    ("outdoor", "Headlamp 400 lm", "Rechargeable, with a red night mode.", "32.00", 30),
    ("outdoor", "Camping Stove", "Folding gas burner, 2.6 kW.", "39.00", 18),
    ("outdoor", "Garden Pruning Shears", "Bypass blades for live stems up to 20 mm.", "21.50", 26),
    ("outdoor", "Folding Camp Chair", "Holds 120 kg, packs to the size of an umbrella.", "35.00", 24),
    ("books", "The Home Barista", "A practical guide to espresso at home.", "27.00", 20),
    ("books", "Salt, Fat, Acid, Heat", "The four elements of good cooking.", "32.00", 15),
    ("books", "Field Guide to Mushrooms", "Over 500 species with photographs.", "24.00", 12),
    ("books", "Deep Work", "Rules for focused success in a distracted world.", "18.00", 25),
    ("books", "The Hiker's Handbook", "Routes, gear and safety for beginners.", "19.50", 18),
    ("books", "Everyday Bread", "Simple loaves from one basic dough.", "22.00", 0),
]


class Command(BaseCommand):
    help = "Create the demo catalog (categories and products) unless it is there already."

    @transaction.atomic
    def handle(self, *args, **options):
        categories = {}
        new_categories = 0
        for slug, (name, description) in CATEGORIES.items():
            category = Category.objects.filter(Q(slug=slug) | Q(name=name)).first()
            if category is None:
                category = services.category_create(name=name, slug=slug, description=description)
                new_categories += 1
            categories[slug] = category

        existing = set(Product.objects.filter(name__in=[p[1] for p in PRODUCTS]).values_list("name", flat=True))
        new_products = 0
        for slug, name, description, price, stock in PRODUCTS:
            if name in existing:
                continue
            services.product_create(
                name=name, description=description, price=Decimal(price), stock=stock, category=categories[slug]
            )
            new_products += 1

        self.stdout.write(
            f"Demo catalog: {new_categories} new categories, {new_products} new products "
            f"({len(PRODUCTS) - new_products} products were there already)."
        )
