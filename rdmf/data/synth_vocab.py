"""Vocabulary and sentence grammar of the synthetic benchmark.

An event is a ``(subject, action, place)`` triple. A scene's caption renders it in one canonical
form ("a man rides a bicycle in a park."); a query renders the same event in varied words
(synonyms, templates, optional adjectives and time phrases), so that query and caption are
paraphrases, not copies. Near-miss distractor scenes change one slot of the query's event.
"""

from __future__ import annotations

import numpy as np

# (canonical noun, query synonyms)
SUBJECTS = [
    ("man", ["man", "guy", "young man"]), ("woman", ["woman", "lady", "young woman"]),
    ("little girl", ["little girl", "small girl", "young girl"]),
    ("little boy", ["little boy", "small boy", "kid"]), ("chef", ["chef", "cook"]),
    ("dog", ["dog", "puppy"]), ("cat", ["cat", "kitten"]), ("couple", ["couple", "pair of lovers"]),
    ("group of friends", ["group of friends", "bunch of friends"]),
    ("old man", ["old man", "elderly man"]), ("teenager", ["teenager", "teen"]),
    ("vlogger", ["vlogger", "blogger", "youtuber"]), ("police officer", ["police officer", "cop"]),
    ("soldier", ["soldier", "army man"]), ("street musician", ["street musician", "busker"]),
    ("tourist", ["tourist", "traveler"]), ("mechanic", ["mechanic", "repairman"]),
    ("surfer", ["surfer"]), ("baby", ["baby", "toddler"]), ("doctor", ["doctor", "physician"]),
    ("teacher", ["teacher", "instructor"]), ("farmer", ["farmer"]), ("dancer", ["dancer"]),
    ("news reporter", ["news reporter", "journalist"]), ("family", ["family"]),
    ("fisherman", ["fisherman", "angler"]), ("nurse", ["nurse"]), ("artist", ["artist", "painter"]),
]

# (3rd person singular, -ing form) — query synonyms are alternative (3rd, ing) pairs
ACTIONS = [
    [("rides a bicycle", "riding a bicycle"), ("cycles", "cycling")],
    [("cooks pasta", "cooking pasta"), ("makes spaghetti", "making spaghetti")],
    [("plays the guitar", "playing the guitar"), ("strums a guitar", "strumming a guitar")],
    [("walks a dog", "walking a dog"), ("takes a dog for a walk", "taking a dog for a walk")],
    [("eats a sandwich", "eating a sandwich"), ("has a sandwich", "having a sandwich")],
    [("drinks coffee", "drinking coffee"), ("sips a coffee", "sipping a coffee")],
    [("reads a book", "reading a book"), ("looks through a novel", "looking through a novel")],
    [("dances", "dancing"), ("moves to the music", "moving to the music")],
    [("paints a picture", "painting a picture"), ("draws on a canvas", "drawing on a canvas")],
    [("swims", "swimming"), ("takes a swim", "taking a swim")],
    [("talks to the camera", "talking to the camera"), ("speaks to the viewers", "speaking to the viewers")],
    [("runs", "running"), ("jogs", "jogging")],
    [("washes a car", "washing a car"), ("cleans a car", "cleaning a car")],
    [("sings a song", "singing a song"), ("performs a song", "performing a song")],
    [("opens a present", "opening a present"), ("unwraps a gift", "unwrapping a gift")],
    [("fixes a motorcycle", "fixing a motorcycle"), ("repairs a motorbike", "repairing a motorbike")],
    [("plays football", "playing football"), ("kicks a soccer ball", "kicking a soccer ball")],
    [("takes a selfie", "taking a selfie"), ("photographs themselves", "photographing themselves")],
    [("climbs a wall", "climbing a wall"), ("scales a wall", "scaling a wall")],
    [("feeds the birds", "feeding the birds"), ("throws bread to pigeons", "throwing bread to pigeons")],
    [("cuts vegetables", "cutting vegetables"), ("chops vegetables", "chopping vegetables")],
    [("laughs", "laughing"), ("bursts out laughing", "bursting out laughing")],
    [("drives a truck", "driving a truck"), ("steers a truck", "steering a truck")],
    [("does push-ups", "doing push-ups"), ("exercises", "exercising")],
    [("plays the piano", "playing the piano"), ("plays a keyboard", "playing a keyboard")],
    [("builds a sandcastle", "building a sandcastle"), ("makes a sand castle", "making a sand castle")],
    [("skateboards", "skateboarding"), ("rides a skateboard", "riding a skateboard")],
    [("waters the plants", "watering the plants"), ("waters the flowers", "watering the flowers")],
    [("shops for clothes", "shopping for clothes"), ("tries on clothes", "trying on clothes")],
    [("hugs a friend", "hugging a friend"), ("embraces a friend", "embracing a friend")],
    [("catches a fish", "catching a fish"), ("reels in a fish", "reeling in a fish")],
    [("writes on a whiteboard", "writing on a whiteboard"), ("draws on a board", "drawing on a board")],
]

PLACES = [
    ("in a park", ["in a park", "in the park"]), ("on the beach", ["on the beach", "by the sea"]),
    ("in a kitchen", ["in a kitchen", "in the kitchen"]),
    ("on a busy street", ["on a busy street", "in a crowded street"]),
    ("in a living room", ["in a living room", "at home"]), ("at a market", ["at a market", "in a bazaar"]),
    ("in the snow", ["in the snow", "on a snowy field"]), ("on a boat", ["on a boat", "aboard a ship"]),
    ("in a gym", ["in a gym", "at the gym"]), ("at a restaurant", ["at a restaurant", "in a diner"]),
    ("in an office", ["in an office", "at work"]), ("in a forest", ["in a forest", "in the woods"]),
    ("by a lake", ["by a lake", "next to a lake"]), ("on a rooftop", ["on a rooftop", "on a roof"]),
    ("at the airport", ["at the airport", "in an airport terminal"]),
    ("in a classroom", ["in a classroom", "at school"]), ("on a stage", ["on a stage", "at a concert"]),
    ("in a garden", ["in a garden", "in the backyard"]),
    ("at a train station", ["at a train station", "on a platform"]),
    ("in the desert", ["in the desert", "among sand dunes"]),
]

ADJECTIVES = ["", "", "", "smiling ", "tall ", "happy ", "tired ", "cheerful "]
TIMES = ["", "", "", " at night", " in the morning", " on a sunny day", " in the rain"]

QUERY_TEMPLATES = [
    "{A} {adj}{subj} {act3} {place}{time}.",
    "{A} {adj}{subj} is {acting} {place}{time}.",
    "We see {a} {adj}{subj} {acting} {place}{time}.",
    "Footage of {a} {adj}{subj} {acting} {place}{time}.",
    "{A} {adj}{subj} can be seen {acting} {place}{time}.",
    "{Place}, {a} {adj}{subj} {act3}{time}.",
    "There is {a} {adj}{subj} {acting} {place}{time}.",
]


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def caption(event: tuple[int, int, int]) -> str:
    """The canonical caption of a scene showing ``event = (subject, action, place)``."""
    subj, act, place = event
    noun = SUBJECTS[subj][0]
    return f"{_article(noun)} {noun} {ACTIONS[act][0][0]} {PLACES[place][0]}."


def query_sentence(event: tuple[int, int, int], rng: np.random.Generator) -> str:
    """A varied natural sentence describing ``event``."""
    subj, act, place = event
    noun = str(rng.choice(SUBJECTS[subj][1]))
    act3, acting = ACTIONS[act][int(rng.integers(len(ACTIONS[act])))]
    place_text = str(rng.choice(PLACES[place][1]))
    adj = str(rng.choice(ADJECTIVES))
    time = str(rng.choice(TIMES))
    template = QUERY_TEMPLATES[int(rng.integers(len(QUERY_TEMPLATES)))]
    a = _article((adj or noun))
    text = template.format(A=a.capitalize(), a=a, adj=adj, subj=noun, act3=act3, acting=acting,
                           place=place_text, Place=place_text.capitalize(), time=time)
    return text[0].upper() + text[1:]


SEQUENCE_TEMPLATES = ["{a}, then {b}.", "First {a}, then {b}.", "{a}, and after that {b}."]


def sequence_sentence(first: tuple[int, int, int], second: tuple[int, int, int],
                      rng: np.random.Generator) -> str:
    """A sentence asking for ``first``, then ``second`` (the order in time is the order in words)."""
    a, b = (query_sentence(ev, rng).rstrip(".") for ev in (first, second))
    template = SEQUENCE_TEMPLATES[int(rng.integers(len(SEQUENCE_TEMPLATES)))]
    if template.startswith("{a}"):
        text = template.format(a=a, b=b[0].lower() + b[1:])
    else:
        text = template.format(a=a[0].lower() + a[1:], b=b[0].lower() + b[1:])
    return text[0].upper() + text[1:]
