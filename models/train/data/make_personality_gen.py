"""Template-generated first-person statements keyed to one Big-Five trait pole -> personality_gen.jsonl
{text, trait (0 O, 1 C, 2 E, 3 A, 4 N), key (+1 high / -1 low)}.

Written for this project (game flavoured), NOT derived from the IPIP-NEO-120 items: each pole has a list of
behaviours; frames either embrace a behaviour of the pole ("I love ...") or reject a behaviour of the opposite
pole ("I can't stand ..."), so liking-words alone do not give the key away. Exact overlap with IPIP items is
asserted in train.py, which also drops lines whose teacher cosine to any IPIP item is >= 0.80 and reports the
maximum. Training-only (used in every personality fit and for the personality distillation teacher).
Deterministic (seeded)."""
import json
import os
import random

R = random.Random(7)

# behaviours as gerund phrases, per (trait, key)
B = {
    (0, 1): ["exploring ruins nobody has mapped", "trying strange food from far-off lands", "learning forgotten languages",
             "listening to the bards' new songs", "puzzling over old riddles", "painting the mountains at dawn",
             "arguing about the nature of magic", "reading every book in the abbey", "inventing new recipes",
             "asking travellers about their customs", "wondering what lies beyond the sea", "writing poems by candlelight",
             "tinkering with strange contraptions", "studying the stars", "taking roads I have never walked"],
    (0, -1): ["doing things the way my grandfather did", "eating the same stew every night", "sticking to the road I know",
              "ignoring poems and paintings", "keeping away from foreign notions", "following the old customs to the letter",
              "leaving philosophy to the priests", "staying in my home village", "trusting plain common sense over ideas",
              "working the same field year after year", "avoiding anything newfangled", "skipping the bard's tales"],
    (1, 1): ["keeping my ledger in perfect order", "finishing my work before sundown", "planning every route before we leave",
             "sharpening my tools each evening", "keeping every promise I make", "arriving at the gate on time",
             "checking the supplies twice", "cleaning my armour after every march", "saving a coin from every wage",
             "making a list before market day", "doing the chores before resting", "following the captain's orders exactly",
             "labelling every jar in the storeroom"],
    (1, -1): ["leaving my chores half done", "losing my keys somewhere in the tavern", "putting off repairs until tomorrow",
              "forgetting where I left my sword", "spending my wages the day I get them", "showing up late to my watch",
              "skipping the boring parts of the job", "letting the dishes pile up", "making plans and then ignoring them",
              "sleeping through the morning bell", "rushing the work and hoping for the best", "forgetting my promises"],
    (2, 1): ["dancing in the crowded tavern", "chatting with every stranger on the road", "leading the songs at the feast",
             "being the centre of attention", "throwing loud parties for the whole village", "telling stories to a big crowd",
             "meeting new people at the market", "cheering the loudest at the tournament", "starting conversations with travellers",
             "joining every festival", "laughing with a table full of friends", "making friends in a new town"],
    (2, -1): ["spending the evening alone with a book", "sitting quietly in the corner of the inn", "avoiding the crowded market",
              "keeping my thoughts to myself", "walking alone in the woods", "leaving the feast early", "staying home on festival nights",
              "letting others do the talking", "working by myself in the back room", "keeping away from big gatherings",
              "eating my supper alone", "staying out of the spotlight"],
    (3, 1): ["sharing my bread with hungry travellers", "helping strangers carry their loads", "forgiving people who wronged me",
             "listening to other people's troubles", "trusting people to do the right thing", "giving my coin to the poor",
             "making peace between quarrelling neighbours", "putting others' needs before my own", "caring for wounded animals",
             "comforting anyone who is sad", "treating every guest with kindness", "speaking gently to the children"],
    (3, -1): ["looking out only for myself", "getting even with anyone who crosses me", "ignoring other people's troubles",
              "taking the bigger share of the loot", "insulting people who annoy me", "cheating fools out of their coin",
              "telling beggars to get lost", "holding a grudge for years", "pushing people out of my way",
              "mocking those who are weaker", "refusing to share my food", "starting fights in the tavern"],
    (4, 1): ["worrying about every little noise at night", "panicking when plans go wrong", "losing sleep over my debts",
             "fretting that the harvest will fail", "getting upset over small things", "feeling afraid when I am alone",
             "snapping at people when I am stressed", "dreading what tomorrow will bring", "feeling my heart race before every journey",
             "brooding over my mistakes for days", "feeling hopeless when it rains", "imagining the worst in every situation"],
    (4, -1): ["staying calm when the raiders come", "shrugging off bad news", "sleeping soundly before a battle",
              "keeping a cool head in a crisis", "laughing off my mistakes", "feeling at peace with the world",
              "taking setbacks in my stride", "staying relaxed when plans change", "facing storms without fear",
              "letting insults roll off my back", "waking up cheerful every morning", "trusting that things will work out"],
}
LIKE = ["I love {b}.", "Nothing makes me happier than {b}.", "I spend most of my days {b}.", "You'll always find me {b}.",
        "I'm the sort who enjoys {b}.", "Honestly, {b} is just how I am.", "I've always been fond of {b}.",
        "Ask anyone: I'm known for {b}.", "I find myself {b} more often than not."]
DISLIKE = ["I can't stand {b}.", "I'm not one for {b}.", "You won't catch me {b}.", "I have no patience for {b}.",
           "I've never been good at {b}.", "{B} just isn't me.", "I avoid {b} whenever I can."]
N_PER_POLE = 60


def main():
    out, seen = [], set()
    for (t, k), pos in sorted(B.items()):
        neg = B[(t, -k)]
        pairs = [(f, b) for f in LIKE for b in pos] + [(f, b) for f in DISLIKE for b in neg]
        R.shuffle(pairs)
        n = 0
        for f, b in pairs:
            s = f.replace("{B}", b[0].upper() + b[1:]).replace("{b}", b)
            s = s[0].upper() + s[1:]
            if s.lower() in seen:
                continue
            seen.add(s.lower())
            out.append({"text": s, "trait": t, "key": k})
            n += 1
            if n >= N_PER_POLE:
                break
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "personality_gen.jsonl"), "w", encoding="utf-8") as fh:
        for r in out:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(len(out), "lines")


if __name__ == "__main__":
    main()
