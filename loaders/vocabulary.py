"""Words the synthetic shop writes its products and queries with: one vocabulary per category.

Each category has nouns, adjectives, brands, uses ("for ...") and materials/details; the
GENERIC vocabulary belongs to no category and is what ambiguous products and vague queries are
made of. A few adjectives (waterproof, portable, organic, ...) recur across categories on
purpose, as in real catalogues. Brand names are invented.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Vocabulary:
    name: str
    nouns: tuple[str, ...]
    adjectives: tuple[str, ...]
    brands: tuple[str, ...]
    uses: tuple[str, ...]
    details: tuple[str, ...]
    complement: str  # the category people buy alongside this one


def _v(name: str, nouns: str, adjectives: str, brands: str, uses: str, details: str,
       complement: str) -> Vocabulary:
    split = lambda s: tuple(w.strip() for w in s.split(",") if w.strip())  # noqa: E731
    return Vocabulary(name, split(nouns), split(adjectives), split(brands), split(uses),
                      split(details), complement)


CATEGORIES: tuple[Vocabulary, ...] = (
    _v("Electronics",
       "wireless headphones, earbuds, bluetooth speaker, phone charger, power bank, smartwatch, "
       "mechanical keyboard, gaming mouse, webcam, computer monitor, tablet, HDMI cable, "
       "wifi router, USB microphone, phone case, soundbar",
       "wireless, noise-cancelling, rechargeable, USB-C, 4K, smart, fast-charging, ergonomic, "
       "bluetooth 5.3, HD, low-latency, portable, dual-band, magnetic",
       "Sonora, Voltix, Auralink, Pixelon, Zentech, Novabeam, Qubitron, Ampwave",
       "work calls, gaming, travel, home office, streaming, running, video meetings",
       "40-hour battery life, a built-in microphone, an aluminium housing, touch controls, "
       "a 1080p sensor, RGB backlighting, a braided cable, active noise cancellation",
       "Office Supplies"),
    _v("Kitchen",
       "nonstick skillet, saucepan, chef knife, cutting board, blender, coffee maker, electric "
       "kettle, mixing bowls, silicone spatula, dutch oven, measuring cups, toaster, food "
       "storage containers, whisk, colander, air fryer",
       "nonstick, stainless steel, cast iron, dishwasher-safe, ceramic, heat-resistant, "
       "BPA-free, enameled, programmable, induction-ready, stackable, oven-safe",
       "Copperline, Chef's Harbor, Saltbrook, Ovenwise, Brightkettle, Maple & Knife, Simmerco",
       "weeknight dinners, meal prep, baking, brunch, family cooking, camping meals",
       "a riveted handle, a tempered glass lid, a triple-ply base, a 1.7 litre capacity, "
       "an auto shut-off, a hardwood block, measurement markings, a pour spout",
       "Grocery & Gourmet"),
    _v("Sports & Outdoors",
       "yoga mat, adjustable dumbbells, camping tent, sleeping bag, hiking backpack, water "
       "bottle, resistance bands, trekking poles, camping stove, jump rope, kettlebell, "
       "headlamp, cooler, foam roller, bike helmet",
       "waterproof, lightweight, insulated, adjustable, non-slip, ultralight, breathable, "
       "collapsible, high-density, reflective, 4-season, portable",
       "Trailpeak, Summitry, Northfold, Ironstride, Ridgeback Gear, Kinetiq, Campfirely",
       "hiking, home workouts, camping trips, the gym, trail running, backpacking, yoga class",
       "a rip-stop nylon shell, a carry strap, 20 degree comfort rating, a knurled grip, "
       "double-wall insulation, a rain fly, 6mm cushioning, a hip belt",
       "Clothing & Shoes"),
    _v("Beauty & Personal Care",
       "moisturizer, face serum, shampoo, conditioner, lipstick, mascara, sunscreen, face wash, "
       "hair dryer, nail polish, body lotion, eau de parfum, eyeliner, sheet masks, lip balm",
       "hydrating, fragrance-free, vitamin C, SPF 50, matte, anti-aging, paraben-free, "
       "long-lasting, organic, hypoallergenic, waterproof, volumizing, gentle",
       "Lumiere Skin, Velvetine, Glowhaus, Dermacalm, Rosebay, Purelle, Silkstone",
       "dry skin, daily skincare, sensitive skin, curly hair, evening looks, sun protection",
       "hyaluronic acid, shea butter, a pump bottle, niacinamide, a travel-size tube, "
       "dermatologist tested formula, argan oil, a smudge-proof finish",
       "Clothing & Shoes"),
    _v("Toys & Games",
       "building blocks, board game, jigsaw puzzle, action figure, plush toy, dollhouse, "
       "remote control car, wooden train set, card game, kite, play dough set, toy kitchen, "
       "marble run, magnetic tiles",
       "educational, STEM, 1000-piece, cuddly, battery-operated, wooden, collectible, "
       "kids', family, glow-in-the-dark, creative, cooperative",
       "Playnest, Brickwise, Tumbletoy, Wondercub, Gigglebox, Puzzlecraft, Tinytown",
       "toddlers, family game night, ages 8 and up, birthday parties, rainy days, "
       "preschool learning",
       "250 colourful pieces, non-toxic paint, a storage bin, 2 to 4 players, an illustrated "
       "rulebook, rechargeable batteries, soft plush fabric, a 10-minute setup",
       "Office Supplies"),
    _v("Home & Furniture",
       "throw pillow, area rug, blackout curtains, floor lamp, bookshelf, picture frame, "
       "wall clock, nightstand, duvet cover, scented candle, ceramic vase, wall mirror, "
       "storage ottoman, bar stool",
       "velvet, mid-century, blackout, farmhouse, decorative, scented, handwoven, linen, "
       "tufted, rustic, minimalist, solid wood, boho",
       "Hearthly, Oakhaven, Linenroom, Casa Willow, Nestfield, Driftwood & Co, Lamplight",
       "the living room, the bedroom, a small apartment, the entryway, a reading nook, guests",
       "a hidden zipper, a solid oak frame, tool-free assembly, a 60 inch width, a soy wax "
       "blend, a non-slip backing, brass accents, a matte glaze",
       "Garden & Patio"),
    _v("Garden & Patio",
       "garden hose, pruning shears, ceramic planter, cordless lawn mower, seed starter kit, "
       "watering can, raised garden bed, bird feeder, leaf blower, patio umbrella, compost bin, "
       "solar path lights, garden gloves, hose nozzle",
       "expandable, heavy-duty, weatherproof, cordless, galvanized, UV-resistant, organic, "
       "frost-proof, self-watering, solar-powered, ergonomic",
       "Greenfurrow, Rootwell, Bloomfield Tools, Yardcraft, Sproutly, Terrace & Vine",
       "vegetable gardens, the backyard, balcony plants, lawn care, raised beds, the patio",
       "a 50 foot length, a brass connector, drainage holes, a 40V battery, a tilt "
       "mechanism, powder-coated steel, sharp bypass blades, a 12-cell tray",
       "Home & Furniture"),
    _v("Pet Supplies",
       "dry dog food, clumping cat litter, dog leash, cat tree, orthopedic pet bed, chew toy, "
       "aquarium filter, bird cage, no-pull dog harness, litter box, cat scratcher, pet "
       "shampoo, cat treats, dog crate",
       "grain-free, clumping, reflective, orthopedic, no-pull, catnip-infused, odor-control, "
       "durable, washable, high-protein, escape-proof",
       "Pawsome, Whiskerly, Barkhaus, Fetchmate, Tailwind Pet, Kibblekind, Purrfect Co",
       "large dogs, indoor cats, puppies, senior pets, small breeds, multi-cat homes",
       "real chicken as the first ingredient, a padded handle, a removable washable cover, "
       "sisal-wrapped posts, a charcoal filter, a quick-release buckle, added omega-3",
       "Garden & Patio"),
    _v("Automotive",
       "car phone mount, tire inflator, dash cam, jump starter, seat covers, floor mats, "
       "wiper blades, synthetic motor oil, car wax, LED headlight bulbs, tire pressure gauge, "
       "car vacuum, roof cargo box",
       "all-weather, synthetic, portable, universal fit, heavy-duty, magnetic, 12V, "
       "scratch-resistant, high-beam, cordless, waterproof",
       "Roadmaster Pro, Gearshift, Autovance, Drivewell, Torqline, Motorix",
       "road trips, winter driving, SUVs and trucks, daily commutes, emergencies, detailing",
       "a 2000A peak current, night vision, a digital pressure readout, a 5W-30 rating, "
       "a suction cup base, trim-to-fit rubber, a 6000K white beam",
       "Electronics"),
    _v("Office Supplies",
       "spiral notebook, gel pens, desk organizer, stapler, printer paper, sticky notes, "
       "file folders, dry erase whiteboard, desk lamp, paper shredder, label maker, "
       "three-ring binder, highlighters, planner",
       "college ruled, refillable, magnetic, acid-free, fine point, heavy-duty, dated, "
       "quick-dry, letter size, cross-cut, adjustable",
       "Inkwell & Co, Paperline, Deskmate, Stapleton, Notably, Officely",
       "school, the home office, meetings, bullet journaling, filing taxes, classrooms",
       "120 sheets, 0.5mm tips, a 20-sheet capacity, 500 sheets per ream, a jam-proof "
       "mechanism, 3-inch squares, reinforced holes, assorted colors",
       "Electronics"),
    _v("Clothing & Shoes",
       "running shoes, cotton t-shirt, pullover hoodie, slim jeans, rain jacket, wool socks, "
       "canvas sneakers, summer dress, high-waist leggings, winter parka, baseball cap, "
       "leather boots, flannel shirt",
       "cotton, slim fit, fleece-lined, moisture-wicking, stretch, men's, women's, relaxed "
       "fit, waterproof, breathable, quilted, vintage wash",
       "Threadline, Northloom, Stridewear, Denimhaus, Cottonfield, Peak & Pine Apparel",
       "everyday wear, running, cold weather, the office, weekends, travel",
       "a cushioned midsole, 100% organic cotton, a drawstring hood, reinforced seams, "
       "a kangaroo pocket, a sealed zipper, merino wool blend, a rubber outsole",
       "Sports & Outdoors"),
    _v("Grocery & Gourmet",
       "whole bean coffee, green tea, extra virgin olive oil, protein bars, dark chocolate, "
       "durum wheat pasta, trail mix, hot sauce, raw honey, granola, spice set, sparkling "
       "water, almond butter, maple syrup",
       "organic, gluten-free, dark roast, extra virgin, keto, unsweetened, single-origin, "
       "cold-pressed, non-GMO, small-batch, low-sugar",
       "Harvest Table, Bean & Bloom, Goldleaf, Pantry Lane, Sunny Acres, Spicewell",
       "breakfast, snacking, baking, cooking at home, road trips, gifting",
       "72% cacao, a resealable bag, 12 ounces, cold-pressed first harvest, 20 grams of "
       "protein, fair-trade beans, no artificial flavors, Sicilian sea salt",
       "Kitchen"),
)

GENERIC = _v(
    "generic",
    "set, kit, bundle, value pack, essentials pack, collection, accessory, gift set, combo "
    "pack, starter pack, multipack, assortment",
    "premium, classic, essential, everyday, deluxe, compact, multi-purpose, versatile, "
    "best-selling, value, modern, original, upgraded, professional",
    "DailyGoods, PrimeChoice, ValueLine, Everyday Co, HomeMart Basics, Goodstock, Basico",
    "everyday use, the whole family, gifting, home and away, any occasion",
    "quality materials, a satisfaction guarantee, a sleek design, reliable performance, "
    "easy care, great value",
    "generic")

VAGUE_QUERIES: tuple[str, ...] = (
    "gift ideas", "best deals today", "cheap stuff", "birthday present", "gift for dad",
    "gift for mom", "stocking stuffers", "top rated", "new arrivals", "value pack",
    "things under 20 dollars", "christmas gifts", "housewarming gift", "best sellers",
)

# Amazon Shopping Queries (ESCI) relevance labels.
ESCI = ("Exact", "Substitute", "Complement", "Irrelevant")
