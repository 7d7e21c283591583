"""Template-generated HARD sentiment training lines (issue 20) -> models/train/data/sentiment_hard.jsonl.

    python3 models/train/data/make_sentiment_hard.py

Why: model 2.3.0 reads some threats and insults as positive ('The next time I see your face, it will be on a
spike.', "I've met smarter rocks than you."), plain greetings as positive and apologies as negative. This file gives
the sentiment head hard examples of exactly those kinds, in game register: threats (veiled ones with no hostile
word), insults (comparisons and mock-praise with no hostile word), sarcasm, backhanded compliments; and the
polarity-ambiguous social moves: apologies, greetings, thanks, farewells, bargaining.

Each line: {text, sentiment (0 negative / 1 neutral / 2 positive), category, affinity (speaker -> listener, -1..1),
template (an id "category/index" of the template it came from, so a fit can hold back whole templates for
validation)}. Hand-written templates x slot filling, labelled by construction, seeded (deterministic: the same file
on every run).

Labelling convention, inferred from the lines of models/eval/game_dialogue.jsonl per category (read for the
convention only; no line of it is used as a template):

* threat, insult: always negative (0), also when veiled ('on a spike', 'smarter rocks than you').
* sarcasm, backhanded compliment: negative (0). The surface words are positive ('brilliant', 'thanks a lot',
  'not bad'), the attitude toward the listener is hostile or belittling; the label follows the attitude.
* thanks: positive (2), from 'Cheers for the ale' to 'I owe you everything'.
* apology: neutral (1) by default: a plain apology, an excuse, a regret with an offer to make amends ('My apologies,
  I mistook you for someone else', 'Please forgive me. I never meant to hurt you.'). Positive (2) when it mainly
  affirms the listener ('I'm sorry I doubted you. You were right all along.'). Negative (0) when it confesses one's
  own wrong with shame or self-reproach ('I was wrong to steal from you, and I'm ashamed.').
* greeting: neutral (1) when plain, formal or functional ('Hail, stranger.', 'Hi. Can I help you with something?',
  'Good evening, my lady.'); positive (2) when warm or glad ('Well met, friend! It's been too long.', a welcome, an
  invitation to the fire, 'we missed you').
* farewell: positive (2) for a warm wish ('Safe travels', 'take care', 'come back whenever you like'); neutral (1) for a
  flat or resigned one ('Farewell. I doubt we'll meet again.'); negative (0) for a dismissive one ('Good riddance.').
* bargaining: neutral (1) for offers, counter-offers, price questions and terms; positive (2) for accepting a deal or
  praising the price; negative (0) for accusing the other side of cheating or robbery.

Disjointness: exact overlap with every held-out line (models/eval/sentiment_test.jsonl, game_dialogue.jsonl,
game_dialogue_hard.jsonl) and with the older training files is asserted here; models/train/fit_sentiment.py
drops every line whose MiniLM teacher cosine to a held-out line is >= 0.75 and records the counts. The held-out
game_dialogue_hard.jsonl was written by hand before this generator, in another style (one-off lines with their own
images; these templates are frames x slot lists), and no template here was copied from it.
"""
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(os.path.dirname(HERE))
R = random.Random(20261205)

SLOTS = {
    "place": ["the mill", "the harbour", "the old keep", "the chapel", "the market", "the mine", "the watchtower",
              "the orchard", "the ferry dock", "the crossroads", "the granary", "the forge", "the tannery"],
    "item": ["amulet", "lantern", "rope", "shield", "map", "dagger", "boots", "cloak", "hammer", "ring", "compass",
             "saddle", "bow", "kettle"],
    "host": ["worm", "cur", "snake", "wretch", "maggot", "knave", "lout", "swine", "toad", "weasel"],
    "warm": ["friend", "my dear", "old friend", "traveller", "my friend", "neighbour", "lass", "lad"],
    "plain": ["traveller", "stranger", "sir", "madam", "master", "pilgrim", "miss", "goodman"],
    "time": ["sundown", "nightfall", "market day", "the full moon", "dawn", "the harvest", "week's end"],
    "folk": ["brother", "sister", "son", "daughter", "father", "mother", "wife", "husband", "apprentice"],
    "beast": ["a mule", "a turnip", "a sack of flour", "a fence post", "a sleepy ox", "a bucket", "a cabbage",
              "a doorstop", "a dead fish", "a sheep"],
    "coin": ["ten silver", "five gold", "twenty coppers", "three gold", "forty silver", "a gold crown", "eight silver"],
    "goods": ["the mare", "the cloak", "the bow", "the lantern", "the salt", "the rope", "the map", "the furs",
              "the boots", "the wine", "the herbs", "the anvil"],
    "chore": ["mending the fence", "fixing the well", "finding my goat", "carrying the water", "patching the roof",
              "guarding the gate", "walking me home", "feeding the hens", "clearing the road", "splitting the wood"],
    "mishap": ["lost the key", "dropped the eggs", "let the pigs out", "set the hay on fire", "broke the ladder",
               "forgot the bread", "woke the baby", "spilled the ale", "left the gate open", "sank the rowboat"],
    "skill": ["aim", "cooking", "singing", "swordplay", "riding", "bargaining", "handwriting", "dancing",
              "archery", "spellwork"],
    "wrong": ["took your coin", "burned the letters", "told the guards your name", "broke your lute",
              "sold your horse", "read your diary", "ate the last of your bread", "cheated you at dice",
              "lied to the elder about you", "let your hound run off"],
}
SLOTS["harm"] = ["the crows pick your bones", "the river carry you off", "the rats find you first",
                 "your head decorate the gate", "the wolves dine well tonight", "you sleep under the mud",
                 "your widow wear black", "the bell toll for you"]


def fill(t, rng):
    out = t
    for k, vals in SLOTS.items():
        while "{" + k + "}" in out:
            out = out.replace("{" + k + "}", rng.choice(vals), 1)
    assert "{" not in out, out
    return out[0].upper() + out[1:]


T = []  # (category, sentiment, affinity, templates)


def add(cat, sent, aff, templates):
    T.append((cat, sent, aff, templates))


# ---------------------------------------------------------------- threats: veiled, no hostile word needed
add("threat", 0, -0.9, [
    "Come back here again and {harm}.", "Cross that line and {harm}.", "Keep talking and {harm}.",
    "Set foot near {place} once more and {harm}.", "Another lie from you, {host}, and {harm}.",
    "Before {time}, {harm}. I promise you that.", "Pay what you owe by {time}, or {harm}.",
    "I'd pray tonight if I were you, {host}.", "I'll see you hanging from the gate at {time}.",
    "Leave the {item} and walk away, while you still have legs.", "My knife remembers your face, {host}.",
    "You'll be carrying your teeth home in your hat.", "By {time} your {folk} will be looking for your grave.",
    "Say my name to the watch and your {folk} won't wake up.", "Everyone who crossed me is buried behind {place}.",
    "Open that {item} and I'll open your throat.", "The next time you smile at me, you'll be smiling with no teeth.",
    "One word to the reeve and you're food for the pike.", "I'll make sure nobody ever finds you, {host}.",
    "Walk away now, or they'll be digging two graves at {place}.",
])
# ---------------------------------------------------------------- insults: comparisons and mock-praise
add("insult", 0, -0.7, [
    "You have the wits of {beast}.", "I've had longer talks with {beast} and learned more.",
    "{beast} would make a better captain than you.", "Your {skill} would shame {beast}.",
    "Talking to you is like arguing with {beast}.", "You're about as sharp as {beast}, {host}.",
    "Even {beast} knows when to keep quiet. You don't.", "They say you're clever. They also lie.",
    "You were the runt of a very sorry litter.", "If brains were coin, you couldn't buy a crust of bread.",
    "Your face could curdle the milk at {place}.", "I'd call you a fool, but fools are useful at fairs.",
    "Somewhere {beast} is missing its brain, and I think you have it.",
    "You're the reason your {folk} drinks.", "Nobody at {place} can stand the sight of you, {host}.",
    "You couldn't find {place} with a map and a guide.",
    "Your {skill} is an insult to the whole craft.", "You have all the charm of {beast}.",
])
# ---------------------------------------------------------------- sarcasm: positive words, hostile attitude
add("sarcasm", 0, -0.5, [
    "Oh, wonderful. You {mishap}. What would we do without you?",
    "Well done, hero. You {mishap}. Truly a legend.", "Marvellous. You {mishap}, and it's not even noon.",
    "Thanks ever so much for {chore}. Oh wait, you didn't.",
    "Oh yes, please keep helping. The last time you {mishap}.",
    "What a fine guard you make. Someone walked off with the {item} while you snored.",
    "Splendid idea. Let's all walk into {place} at night with no torch.",
    "How thoughtful of you to show up after the fighting was over.",
    "Oh, you brought the wrong {item}. How very like you. Perfect.",
    "Of course the great {plain} knows best. He's only been wrong every single time.",
    "Yes, because shouting at the bear worked so well last time.",
    "Lovely. You {mishap} and then you smiled about it. Bravo.",
    "A round of applause for the genius who {mishap}.", "Clever, clever. Now we're lost and out of water.",
    "Oh, I'm so grateful you told everyone at {place} our plans.",
    "Sure, trust the smuggler. That always ends well.", "Wonderful timing, as always. The ship left an hour ago.",
    "Another brilliant bargain. You paid {coin} for a rusty {item}.",
])
# ---------------------------------------------------------------- backhanded compliments
add("backhanded", 0, -0.4, [
    "Your {skill} isn't bad, for a beginner your age.", "Nice {item}. Did you steal it, or did someone pity you?",
    "You look almost respectable today.", "You're smarter than you look, which is a low bar.",
    "Your {skill} has improved. It's merely bad now.", "I didn't think you'd manage it. Colour me surprised.",
    "Not bad for someone raised behind {place}.", "You're quite handsome, when the light is poor.",
    "You did well, for a {folk} nobody wanted.", "Good work. Even {beast} gets lucky sometimes.",
    "I suppose your {skill} is passable, if nobody is watching.",
    "You're brave, in the way only a person who doesn't understand danger can be.",
    "Well, you finished {chore}. Only three days late.", "Your cooking is fine, if you like the taste of ash.",
    "That's a lovely {item}. My grandmother had one just like it, before she threw it out.",
    "You tried your best, I can tell. It shows in how little you got done.",
    "For a {plain} from the hills, you speak almost properly.",
])
# ---------------------------------------------------------------- apologies (see the convention above)
add("apology", 1, 0.3, [
    "Sorry, I {mishap}. I'll sort it out.", "My apologies, {plain}. The {item} isn't ready yet.",
    "Forgive me, I thought you were the miller.", "Pardon, {plain}, I'm blocking the way.",
    "Apologies for the wait. The cook is behind tonight.", "Sorry, we're out of rooms until {time}.",
    "Excuse me, {plain}, I didn't hear you come in.", "I'm sorry, the road to {place} is closed.",
    "Sorry for the noise last night. My {folk} was celebrating.", "Forgive the smell, we tan hides out back.",
    "My fault, {plain}. I gave you the wrong change.", "Sorry, I didn't catch your name.",
    "Please forgive my {folk}. I'll see that it doesn't happen again.",
    "I apologise for the trouble at {place}. I'll pay for the damage.",
])
add("apology", 2, 0.6, [
    "I'm sorry I ever doubted you, {warm}. You were right.", "Forgive me, {warm}. You've been nothing but good to me.",
    "I was wrong about you, {warm}, and I'm glad of it.", "I owe you an apology, {warm}. You're the best of us.",
    "Sorry I grumbled, {warm}. You handled {place} better than anyone could.",
])
add("apology", 0, 0.1, [
    "I {wrong}, and I can't look you in the eye.", "I'm ashamed. I {wrong}.",
    "It was me. I {wrong}, and I've hated myself every day since.",
    "I'm sorry. I {wrong} and I'm a coward for hiding it.",
])
# ---------------------------------------------------------------- greetings
add("greeting", 1, 0.2, [
    "Good morning, {plain}.", "Evening. Looking for a room?", "Hail, {plain}. State your business.",
    "Hello. The {item} is on the shelf by the door.", "Morning, {plain}. Rain's coming.",
    "Greetings. Master Tobin will see you shortly.", "Hi. Wait here, please.", "Good day, {plain}.",
    "Afternoon. Are you here for the ferry?", "Hello, {plain}. Boots off by the door, please.",
    "Ah, you're here. Sit down.", "Welcome to {place}. Mind the dogs.", "Good evening. Two coppers for the bath.",
    "Hello again, {plain}.",
])
add("greeting", 2, 0.7, [
    "{warm}! You're back! Come in out of the cold.", "Good morning, {warm}! What a lovely surprise!",
    "Look who it is! It's so good to see you, {warm}!", "Welcome home, {warm}! We've kept your bed warm.",
    "Well met, {warm}! I hoped you'd come by!", "Hello, {warm}! Come, sit by the fire, I'll pour you a cup.",
    "There's my favourite customer! The usual, {warm}?", "Ah, {warm}, you're a sight for sore eyes!",
])
# ---------------------------------------------------------------- thanks (always positive)
add("thanks", 2, 0.7, [
    "Thank you for {chore}, {warm}.", "Thanks for {chore}. You're a good soul.",
    "I'm grateful, {warm}. Without you, {place} would be lost.", "Much obliged for {chore}.",
    "Cheers for the {item}, {warm}.", "Thank you kindly, {plain}.", "Bless you for {chore}.",
    "I owe you one for {chore}.", "My thanks, {warm}. I won't forget it.",
    "Thanks, {warm}. That {item} saved my life.", "You have my gratitude for {chore}.",
    "Thank you. My {folk} will sleep easy tonight.", "Thanks for the warning about {place}.",
    "We're all thankful for what you did at {place}.",
])
# ---------------------------------------------------------------- farewells
add("farewell", 2, 0.6, [
    "Safe roads, {warm}. Come back soon.", "Take care of yourself, {warm}.", "Goodbye, {warm}. You're always welcome here.",
    "Fare you well, {warm}. Mind the ice on the bridge.", "Until {time}, {warm}. I'll miss you.",
    "Go well, {warm}, and give my love to your {folk}.",
])
add("farewell", 1, 0.0, [
    "Farewell, {plain}.", "Goodbye, then.", "Right. I'm off to {place}.", "Off you go. The gate closes at {time}.",
    "I'll be going now.", "Farewell. The road to {place} is that way.",
])
add("farewell", 0, -0.7, [
    "Good riddance, {host}.", "Leave, and don't ever come back.", "Off with you. Nobody will miss you, {host}.",
    "Go, and take your stink with you.",
])
# ---------------------------------------------------------------- bargaining
add("bargaining", 1, 0.0, [
    "I'll give you {coin} for {goods}.", "How much for {goods}?", "{coin} for {goods}, and that's my last offer.",
    "Would you take {coin} for {goods}?", "Do you trade {goods} for salt?", "I can pay {coin} now and the rest at {time}.",
    "Add {goods} and we can talk.", "What do you want for {goods}?", "I'll trade my {item} for {goods}.",
    "{coin}. Not a copper more.", "Is {goods} still for sale?",
])
add("bargaining", 2, 0.4, [
    "Deal! {coin} and {goods} is yours, {warm}.", "A fair price. I'll take {goods} gladly.",
    "You drive an honest bargain, {warm}. Done.", "{coin}? That's generous. Shake on it!",
    "Done and done. Pleasure doing business with you, {warm}.",
])
add("bargaining", 0, -0.4, [
    "{coin} for {goods}? You're robbing me blind.", "You'd sell your own {folk} for {coin}, you thief.",
    "This {item} is rotten and you know it, {host}.", "Cheat me again and I'll tell everyone at {place}.",
])

PER_TEMPLATE = 8  # distinct fillings per template (fewer when the slots run out)


def generate():
    rows, seen = [], set()
    for cat, sent, aff, templates in T:
        for i, t in enumerate(templates):
            tid = f"{cat}/{sent}/{i}"
            got, tries = 0, 0
            while got < PER_TEMPLATE and tries < 60:
                tries += 1
                s = fill(t, R)
                if s.lower() in seen:
                    continue
                seen.add(s.lower())
                rows.append({"text": s, "sentiment": sent, "category": cat, "affinity": aff, "template": tid})
                got += 1
    return rows


def main():
    rows = generate()
    def texts(p):
        with open(p, encoding="utf-8") as f:
            return {json.loads(l)["text"].lower() for l in f if l.strip()}
    ev = os.path.join(MODELS, "eval")
    held = texts(os.path.join(ev, "sentiment_test.jsonl")) | texts(os.path.join(ev, "game_dialogue.jsonl")) | texts(
        os.path.join(ev, "game_dialogue_hard.jsonl"))
    ours = {r["text"].lower() for r in rows}
    assert not ours & held, sorted(ours & held)
    old = texts(os.path.join(HERE, "game_train.jsonl")) | texts(os.path.join(HERE, "game_gen.jsonl"))
    rows = [r for r in rows if r["text"].lower() not in old]
    with open(os.path.join(HERE, "sentiment_hard.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    from collections import Counter
    print(len(rows), "lines;", sorted(Counter((r["category"], r["sentiment"]) for r in rows).items()))


if __name__ == "__main__":
    main()
