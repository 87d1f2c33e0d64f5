#!/usr/bin/env python3
"""Writes the bundled topic-classification set (run by hand; the output is committed).

Short English sentences in the vocabulary of the lab's toy corpus (African wildlife, geography and
culture), each labelled with its topic: wildlife, geography or culture. Every sentence is built from
one of a handful of templates per topic with words drawn by a seeded random generator, so the set is
fully reproducible; a few words (water, tree, river, life, largest) appear under several topics, and
some sentences carry commas or quotes so that the CSV needs real quoting.

Usage:  python3 scripts/data/make_toy_topics.py java/src/main/resources/ai/lmtrain/data
writes  toy_topics_train.csv (240 rows) and toy_topics_validation.csv (60 rows), header "text,label".
"""
import csv
import random
import sys
from pathlib import Path

TOPICS = {
    "wildlife": {
        "templates": [
            "The {animal} {action}.",
            "{Animals} {group_action}.",
            "At dawn, the {animal} {action}.",
            "A young {animal} {action} near the water.",
        ],
        "animal": ["lion", "elephant", "giraffe", "zebra", "cheetah", "hippo", "rhino", "leopard", "buffalo",
                   "antelope"],
        "Animals": ["Lions", "Elephants", "Giraffes", "Zebras", "Hippos", "Rhinos", "Birds", "Fish"],
        "action": ["is the king of the savanna", "runs across the open land", "drinks water at the river",
                   "sleeps under a tall tree", "hunts at night", "eats grass in the morning",
                   "is a skilled climber", "has thick skin", "is the fastest land animal", "hides in the grass"],
        "group_action": ["live in groups called prides", "use their trunks to drink water",
                         "spend most of their time in water", "have black and white stripes",
                         "have very long necks to reach tall trees", "fly from tree to tree",
                         "swim in the rivers and lakes", "move together across the savanna"],
    },
    "geography": {
        "templates": [
            "The {place} {fact}.",
            "{Place} {fact}.",
            "Travellers say the {place} {fact}.",
            "On the map, the {place} {fact}.",
        ],
        "place": ["Sahara", "Nile", "desert", "rainforest", "coast", "coral reef", "mountain", "waterfall",
                  "continent", "valley"],
        "Place": ["Mount Kilimanjaro", "Victoria Falls", "Lake Victoria", "The Congo basin", "The Kalahari"],
        "fact": ["is the largest hot desert", "is the longest river in the world", "is home to many species",
                 "lies along the coast", "is the highest mountain in Africa", "is one of the largest waterfalls",
                 "is very hot and dry", "gets heavy rain every year", "stretches across many countries",
                 "is covered with sand and rock"],
    },
    "culture": {
        "templates": [
            "{People} {activity}.",
            "In the village, {people} {activity}.",
            "Every year, {people} {activity}.",
            "\"{Saying},\" {people} say.",
        ],
        "People": ["Children", "Elders", "Artists", "Musicians", "Families", "Storytellers", "Farmers", "Dancers"],
        "people": ["children", "elders", "artists", "musicians", "families", "storytellers", "farmers", "dancers"],
        "activity": ["play games together", "share wisdom with the young", "create beautiful sculptures",
                     "celebrate life with music and dance", "sell fruits and vegetables at the market",
                     "farm crops like maize and cassava", "speak many languages", "play drums at the festival",
                     "tell stories by the fire", "paint pictures of daily life"],
        "Saying": ["Music and dance celebrate life", "Storytelling is an important tradition",
                   "Our cultures are rich and diverse", "Traditional music uses drums",
                   "The baobab is the tree of life"],
    },
}


def sentence(rng, topic):
    spec = TOPICS[topic]
    template = rng.choice(spec["templates"])
    fields = {key: rng.choice(values) for key, values in spec.items() if key != "templates"}
    return template.format(**fields)


def main(out_dir):
    rng = random.Random(2026)
    rows, seen = [], set()
    while len(rows) < 300:
        topic = ["wildlife", "geography", "culture"][len(rows) % 3]
        text = sentence(rng, topic)
        if text not in seen:
            seen.add(text)
            rows.append((text, topic))
    rng.shuffle(rows)
    out = Path(out_dir)
    for name, part in (("toy_topics_train.csv", rows[:240]), ("toy_topics_validation.csv", rows[240:])):
        with open(out / name, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["text", "label"])
            writer.writerows(part)
        print(f"wrote {out / name}: {len(part)} rows")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
