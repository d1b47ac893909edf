"""The demo's tool catalog: categories with their picture colours, and about 30 tools per
community written as a neighbor would list them (apps.tools.demo seeds them)."""

from __future__ import annotations

from dataclasses import dataclass

# slug, name, the color of its demo pictures (the drawing, and a pale background of the same hue)
CATEGORIES = [
    ("power-tools", "Power tools", (196, 84, 40)),
    ("hand-tools", "Hand tools", (120, 90, 60)),
    ("garden", "Garden", (70, 140, 60)),
    ("ladders-access", "Ladders & access", (200, 160, 40)),
    ("cleaning", "Cleaning", (60, 130, 190)),
    ("kitchen-canning", "Kitchen & canning", (190, 70, 90)),
    ("camping-outdoors", "Camping & outdoors", (50, 110, 100)),
    ("bikes-repair", "Bikes & repair", (90, 90, 150)),
    ("painting-decorating", "Painting & decorating", (150, 80, 160)),
    ("measuring-electronics", "Measuring & electronics", (70, 80, 90)),
]


@dataclass(frozen=True)
class Item:
    """One kind of tool a neighbor might lend."""

    category: str
    title: str
    description: str
    usage_rules: str
    deposit_note: str = ""


CATALOG = [
    Item(
        "power-tools",
        "Cordless drill (18 V)",
        "Drill-driver with two batteries, a charger and a case of wood, metal and masonry bits.",
        "Charge the batteries before you bring it back. Bits are consumables: replace one if you break it.",
    ),
    Item(
        "power-tools",
        "Hammer drill (SDS-plus)",
        "For concrete and brick. 6, 8 and 10 mm bits and a flat chisel in the case.",
        "Wear the ear defenders in the case. Check the wall for pipes and cables first.",
    ),
    Item(
        "power-tools",
        "Circular saw with guide rail",
        "190 mm saw, a 24-tooth blade fitted and a 1.4 m guide rail for straight cuts in sheet material.",
        "Wood only. Unplug it before you change the blade, and tell me if the blade feels dull.",
        "Please leave 20 credits as a deposit; you get them back at return.",
    ),
    Item(
        "power-tools",
        "Jigsaw",
        "Pendulum jigsaw with a box of blades for wood, laminate and thin metal.",
        "Used blades go in the little tin, not back in the box.",
    ),
    Item(
        "power-tools",
        "Random orbital sander",
        "125 mm sander with hook-and-loop discs in 80, 120 and 240 grit.",
        "Empty the dust bag before you bring it back. Bring your own discs for big jobs.",
    ),
    Item(
        "power-tools",
        "Angle grinder (125 mm)",
        "With a cutting disc, a grinding disc and a wire brush.",
        "Safety glasses and gloves, always. Not for children's projects.",
    ),
    Item(
        "hand-tools",
        "Socket set",
        "1/4 and 1/2 inch drives, 4 to 32 mm, with extensions and a torque wrench.",
        "Count the sockets when you return it: the case has a spot for each.",
    ),
    Item(
        "hand-tools",
        "Spirit level (120 cm)",
        "Long aluminium level, good for shelves, tiles and fence posts.",
        "Don't use it as a straightedge for cutting.",
    ),
    Item(
        "hand-tools",
        "Bar clamps (set of 6)",
        "Six quick-release clamps, two of each of 30, 60 and 90 cm.",
        "Wipe off glue before it dries.",
    ),
    Item(
        "hand-tools",
        "Tile cutter (60 cm)",
        "Manual cutter with a fresh scoring wheel, and tile nippers for curves.",
        "Brush off the dust after use.",
    ),
    Item(
        "hand-tools",
        "Wood chisels (set of 4)",
        "6, 12, 18 and 25 mm bevel-edge chisels, sharp, in a roll.",
        "Keep the caps on. Please don't use them as screwdrivers.",
    ),
    Item(
        "garden",
        "Electric lawn mower",
        "38 cm mower with a grass box and a 20 m cable. Fine for a city garden.",
        "Empty the grass box and brush the deck clean after mowing.",
    ),
    Item(
        "garden",
        "Cordless hedge trimmer",
        "50 cm blade, one battery (about 40 minutes of trimming).",
        "Oil the blade when you're done (the oil is in the bag).",
    ),
    Item(
        "garden",
        "Wheelbarrow",
        "Sturdy 90 litre barrow with a puncture-proof tyre.",
        "Hose it down after carrying soil or concrete.",
    ),
    Item(
        "garden",
        "Pruning saw and loppers",
        "Folding pruning saw and long-handled bypass loppers, for branches up to 5 cm.",
        "Clean the blades if you cut diseased wood.",
    ),
    Item(
        "garden",
        "Garden shredder",
        "Quiet roller shredder for branches up to 4 cm; turns prunings into mulch.",
        "No soil, stones or soft weeds. Use the pusher, never your hands.",
    ),
    Item(
        "garden",
        "Leaf blower and vacuum",
        "Blows, sucks and shreds leaves into a 45 litre bag.",
        "Please not before 9 in the morning: the neighbors will thank you.",
    ),
    Item(
        "ladders-access",
        "Extension ladder (2 x 4 m)",
        "Two-part aluminium ladder, reaches a first-floor gutter.",
        "Someone holds the foot while you climb. I can help carry it.",
    ),
    Item(
        "ladders-access",
        "Step ladder (5 steps)",
        "Stable step ladder with a tool tray on top.",
        "Nothing to add: just bring it back clean.",
    ),
    Item(
        "ladders-access",
        "Mobile scaffold tower",
        "Working height up to 4.5 m, with outriggers and a platform with a trapdoor.",
        "We build it together the first time. Never move it with someone on it.",
        "A deposit of 30 credits, back at return.",
    ),
    Item(
        "ladders-access",
        "Gutter cleaning kit",
        "Telescopic pole with a gutter scoop and a hose attachment, so you can stay on the ground.",
        "Rinse the scoop before you return it.",
    ),
    Item(
        "cleaning",
        "Carpet and upholstery cleaner",
        "Sprays and sucks up in one go; with a hand tool for sofas and car seats.",
        "Empty and rinse both tanks. Use only the cleaner that comes with it.",
    ),
    Item(
        "cleaning",
        "Pressure washer",
        "130 bar washer with a patio cleaner head and a 6 m hose.",
        "Not on soft wood or old brick joints. Let the water drain before you coil the hose.",
    ),
    Item(
        "cleaning",
        "Wet and dry vacuum",
        "30 litre vacuum for the workshop, a flooded cellar or after drilling.",
        "Empty it and dry the filter before you bring it back.",
    ),
    Item(
        "cleaning",
        "Window vacuum",
        "Battery window vacuum with a spray bottle and a microfibre pad.",
        "Wash the pad after use (40 degrees is fine).",
    ),
    Item(
        "kitchen-canning",
        "Preserving pan and 24 jars",
        "Large preserving pan with a thermometer, a funnel and 24 clip-top jars with new rubbers.",
        "Bring back the jars you don't fill; keep the ones you do, and replace them when you can.",
    ),
    Item(
        "kitchen-canning",
        "Pasta machine",
        "Hand-cranked roller with cutters for tagliatelle and spaghetti.",
        "Never wash it with water: brush the flour off and let it dry.",
    ),
    Item(
        "kitchen-canning",
        "Food dehydrator",
        "Six trays, for apple rings, tomatoes, herbs and jerky.",
        "Trays can go in the dishwasher, the base can't.",
    ),
    Item(
        "kitchen-canning",
        "Stockpot (30 litre)",
        "For street parties, big batches of soup or boiling jars.",
        "Return it clean, please.",
    ),
    Item(
        "kitchen-canning",
        "Stand mixer",
        "Mixer with a dough hook, a whisk and a beater. Handles a double batch of bread dough.",
        "Clean the bowl and the attachments before you bring it back.",
    ),
    Item(
        "camping-outdoors",
        "Four-person tent",
        "Tunnel tent with two sleeping cabins and a porch. Pitches in 15 minutes.",
        "Dry it completely before packing, even if it only takes a day in the garden.",
    ),
    Item(
        "camping-outdoors",
        "Camping stove with two burners",
        "Gas stove with a windshield; the gas cartridge is yours to bring.",
        "Only outdoors. Wipe the grill.",
    ),
    Item(
        "camping-outdoors",
        "Electric cool box (24 litre)",
        "Runs on the car's 12 V socket or a mains adapter.",
        "Wipe it dry and leave the lid open a crack when you return it.",
    ),
    Item(
        "camping-outdoors",
        "Inflatable kayak for two",
        "Two-seater with paddles, a pump and two life vests. Perfect for the river on a calm day.",
        "Life vests on, always. Rinse and dry it before packing.",
        "A deposit of 25 credits, back at return.",
    ),
    Item(
        "camping-outdoors",
        "Hiking backpack (65 litre)",
        "Adjustable back, rain cover included.",
        "Empty every pocket before you return it.",
    ),
    Item(
        "bikes-repair",
        "Bike workshop stand",
        "Folding repair stand that holds a bike at working height.",
        "Don't clamp carbon frames by the tube: use the seat post.",
    ),
    Item(
        "bikes-repair",
        "Bike trailer for two children",
        "Trailer with a rain cover and two harnesses; converts to a stroller.",
        "Check the tyre pressure before you ride. Shake out the crumbs, please.",
    ),
    Item(
        "bikes-repair",
        "Cargo bike",
        "Long-tail cargo bike with a bench for two kids or a big load of groceries.",
        "Lock it with both locks. Tell me at once if anything feels off.",
        "A deposit of 40 credits, back at return.",
    ),
    Item(
        "bikes-repair",
        "Bike tool kit",
        "Chain tool, cone spanners, tyre levers, a cassette tool and a floor pump with a gauge.",
        "Everything back in its foam slot.",
    ),
    Item(
        "painting-decorating",
        "Wallpaper steamer",
        "Steam plate and 4 litre tank: old wallpaper comes off in sheets.",
        "Let it cool before packing. Empty the tank.",
    ),
    Item(
        "painting-decorating",
        "Paint sprayer",
        "HVLP sprayer for fences, furniture and walls.",
        "Clean it right after use: dried paint ruins the nozzle.",
    ),
    Item(
        "painting-decorating",
        "Decorating kit",
        "Dust sheets, masking tape holder, a telescopic roller pole and two paint trays.",
        "Fold the dust sheets with the paint side in.",
    ),
    Item(
        "measuring-electronics",
        "Laser distance meter",
        "Measures up to 40 m, with area and volume functions.",
        "Never point it at eyes, human or animal.",
    ),
    Item(
        "measuring-electronics",
        "Multimeter",
        "Auto-ranging meter with test leads and crocodile clips.",
        "Turn the dial to OFF when you're done, or the battery runs flat.",
    ),
    Item(
        "measuring-electronics",
        "Stud and cable detector",
        "Finds studs, live wires and metal pipes behind drywall and plaster.",
        "It is a helper, not a guarantee: switch off the circuit you drill near.",
    ),
    Item(
        "measuring-electronics",
        "Thermal camera",
        "Shows where a house loses heat: draughty frames, missing insulation, cold bridges.",
        "Best on a cold evening. Keep it in its case.",
        "A deposit of 30 credits, back at return.",
    ),
    Item(
        "measuring-electronics",
        "Soldering station",
        "Temperature-controlled iron, stand, solder and a brass tip cleaner.",
        "Let the tip cool on the stand before packing.",
    ),
]
CATALOG_TITLES = [item.title for item in CATALOG]
