"""Template-generated game-dialogue TRAINING lines -> models/train/data/game_gen.jsonl.

Hand-written templates with slot filling, labelled by construction (the template fixes the category, the
sentiment 0 negative / 1 neutral / 2 positive and the speaker -> listener affinity). Written without looking at
models/eval/game_dialogue.jsonl beyond its label conventions (greetings, apologies, bargaining, quest talk,
questions and information are neutral; thanks, praise, affection, comfort, joy are positive; threats, insults,
accusations, fear, grief, complaints, refusals are negative).

Disjointness: exact overlap with the eval set is asserted here; train.py drops every generated line whose
MiniLM teacher cosine to any eval line is >= GEN_MAX_COS (0.80) and reports the maximum that remains.
Deterministic (seeded)."""
import itertools
import json
import os
import random

R = random.Random(20261125)

NAMES = ["Aldric", "Mira", "Brannoc", "Sera", "Tobin", "Ilsa", "Garrick", "Wren", "Hollis", "Nessa", "Corwin", "Edda"]
PLACES = ["the mill", "the harbour", "the old keep", "the chapel", "the market", "the mine", "the watchtower",
          "the orchard", "the ferry dock", "the crossroads", "the barracks", "the tannery", "the granary", "the forge"]
ITEMS = ["amulet", "lantern", "rope", "shield", "map", "herbs", "dagger", "boots", "cloak", "salt", "flour",
         "hammer", "ring", "compass", "quiver"]
HOST = ["worm", "cur", "dog", "snake", "wretch", "coward", "maggot", "scum", "knave", "lout", "rat", "swine"]
WARM = ["friend", "my dear", "love", "old friend", "traveller", "my friend", "hero", "darling"]
TIMES = ["sundown", "nightfall", "the next market day", "the full moon", "dawn", "the harvest", "week's end"]
FACTIONS = ["the bandits", "the Red Hand", "the baron's men", "the smugglers", "the cult", "the guild"]
FOLK = ["brother", "sister", "son", "daughter", "father", "mother", "husband", "wife", "friend", "apprentice"]

T = []  # (category, sentiment, affinity, templates, n)


def add(cat, sent, aff, templates, n):
    T.append((cat, sent, aff, templates, n))


# ---------------------------------------------------------------- negative, hostile
HARM = ["cut your throat", "break both your legs", "bury you in the bog", "feed you to my hounds",
        "put a bolt in your back", "split your skull", "burn you alive", "hang you from the gate",
        "gut you where you stand", "drown you in the well", "nail your hand to the table", "slit you open",
        "cut out your tongue", "break your jaw", "run you through", "snap your neck"]
FUT = ["you're a dead man", "they'll find you in pieces", "I'll have your head", "you won't walk away",
       "you'll never see daylight again", "your corpse will feed the crows", "nobody will find the body",
       "you'll be buried by morning", "I'll end you"]
COND = ["Take another step", "Say that again", "Touch that chest", "Lay a finger on my {folk}", "Come any closer",
        "One more word", "Open that door", "Reach for your sword", "Move a muscle", "Try that again",
        "Look at my {folk} like that again", "Set foot in {place} again", "Lie to me once more", "Turn your back on me"]
add("threat", 0, -0.95, [
    "{cond} and I'll {harm}.", "{cond}, and I swear I'll {harm}.", "{cond} and {fut}.",
    "One more step, {host}, and I'll {harm}.", "Another step and {fut}.",
    "I'll kill you{kill_tail}.", "I'm going to kill you{kill_tail}.", "I will end you{kill_tail}.",
    "You'll regret {regret}.", "You're going to regret {regret}.", "Mark my words, you'll regret {regret}.",
    "If I see you near {place} again, {fut}.", "If you cross me again, {fut}.", "Cross me and {fut}.",
    "Pay up by {time} or {fut}.", "Hand over the {item}, or I'll {harm}.", "Get out of {place} before I {harm}.",
    "Run while you can, {host}. I'm coming for you.", "I'm going to make you bleed, {host}.",
    "Nobody will find your body when I'm done with you.", "I'll hunt you down and {harm}.",
    "I'll burn down everything you care about.", "Your whole family will pay for this, {host}.",
    "Sleep with one eye open, {host}.", "Keep your mouth shut or I'll {harm}.", "Say goodbye to your {folk}.",
    "Don't make me {harm}.", "The next time we meet, I'll {harm}.", "Back away now, or {fut}.",
    "I swear on my blade I'll {harm}.", "Betray me and {fut}.", "You have until {time}. After that, {fut}.",
], 200)
add("insult", 0, -0.8, [
    "You {adj} {noun}.", "Out of my sight, you {adj} {noun}.", "Listen to me, you {adj} {noun}.",
    "What a {adj} {noun} you are.", "You're nothing but a {adj} {noun}.", "Shut up, you {adj} {noun}.",
    "You have the brains of a {animal}.", "Even a {animal} could {task} better than you.",
    "I've seen {animal}s with more courage than you.", "Your {thing} is an insult to {place}.",
    "You fight like a {adj} {noun}.", "Your face could scare a {animal} off a cart.",
    "Nobody wants you here, you {adj} {noun}.", "You're the most {adj} {noun} in the whole kingdom.",
    "Is there anything you can do right, you {adj} {noun}?", "Go crawl back under your rock, {host}.",
    "You reek of {smell}, you {adj} {noun}.", "Pathetic. You can't even {task}.",
], 140)
add("accusation", 0, -0.7, [
    "You stole my {item}, didn't you?", "I know it was you who {crime}.", "You lied to me about {topic}.",
    "Liar! You were at {place} that night.", "You sold us out to {faction}.", "Admit it, you {crime}.",
    "Don't play innocent. You {crime}.", "Everyone saw you {crime2} at {place}.",
    "You've been cheating me on the {item} all along.", "Thief! Give back the {item} you took.",
    "You're working for {faction}, aren't you?", "It was you who betrayed {name}.",
], 90)
add("complaint", 0, -0.3, [
    "This {food} tastes like {smell}.", "The roof of {place} leaks again and nobody cares.",
    "My {body} ache from {labour} all day.", "I'm sick of {labour} for a pittance.",
    "These {item}s you sold me fell apart in a day.", "The road to {place} is a disgrace, all ruts and mud.",
    "I've waited three days and still no word. This is useless.", "The ale here is sour and the stew is cold.",
    "Nothing ever goes right in this miserable town.", "The {animal}s got into the grain again. Ruined, all of it.",
], 70)
add("refusal", 0, -0.4, [
    "No. I won't help you{ref_tail}.", "Absolutely not.", "Forget it, I'm not doing that{ref_tail}.",
    "I refuse. Find someone else.", "Not for all the gold in {place}.", "I'd rather die than help you.",
    "Don't ask me again. The answer is no.", "Never. Get that idea out of your head.",
    "I won't sell you the {item}, not to you.", "Go away. I have nothing for you.",
], 60)
add("fear", 0, -0.1, [
    "I'm scared. Something is moving in {place}.", "Please, don't hurt me!", "I can't go back to {place}, I'm terrified.",
    "What if the {monster} comes back tonight?", "My hands won't stop shaking.",
    "I heard screaming from {place}. I'm so afraid.", "Gods help us, the {monster} is here!",
    "I don't want to die down here.", "Please, I beg you, spare my {folk}!", "I'm frightened of what lurks in {place}.",
    "Hide! They're coming!", "I haven't slept since I saw the {monster}.",
], 80)
add("grief", 0, 0.0, [
    "My {folk} died in the fever last winter.", "I lost my {folk} to the {monster}.",
    "We buried my {folk} at {place} yesterday.", "Since my {folk} passed, the house is so empty.",
    "I still cry when I think of my {folk}.", "The raiders took everything. My {folk} is gone.",
    "Nothing has been the same since my {folk} drowned.", "I miss my {folk} every single day.",
    "They never found my {folk}'s body.", "Everyone I loved is gone now.",
], 80)

# ---------------------------------------------------------------- positive
add("thanks", 2, 0.8, [
    "Thank you for {favour}.", "Thanks for {favour}, {warm}.", "I'm grateful to you for {favour}.",
    "Much obliged for {favour}.", "Bless you for {favour}.", "I can't thank you enough for {favour}.",
    "You have my thanks, {warm}.", "Thank you, {warm}. I won't forget this.", "I owe you one for {favour}.",
    "Thanks a lot, that was a real help.", "We're all grateful for what you did at {place}.",
    "Many thanks, {warm}. You're a lifesaver.",
], 110)
add("praise", 2, 0.8, [
    "You fought bravely today.", "That was brilliant work at {place}.", "You're the finest {trade} in the land.",
    "Well done, {warm}! Truly impressive.", "Your {skill} is remarkable.", "I've never seen anyone {feat} like that.",
    "You have a good heart, {warm}.", "You're braver than any knight I know.", "Splendid! You did it!",
    "The whole village speaks well of you.", "Your courage put us all to shame. Well done.",
    "What a wonderful {thing2} you made.", "You handled that {monster} like a true {trade}, {warm}.",
    "Nobody in {place} has your gift for {skill}.", "Your {skill} saved us at {place}. Magnificent.",
    "I'm proud of you, {warm}.", "{name} says you're the best {trade} she's ever met, and she's right.",
], 100)
add("flirting", 2, 0.9, [
    "I think about you every day, {warm}.", "I've missed you so much.", "Would you {date} with me tonight?",
    "You look beautiful in the lantern light.", "I saved you the best seat by the fire.",
    "Your smile makes my whole day.", "I'd like to spend more time with you.", "I love you, {warm}.",
    "I can't wait to see you again.", "You mean everything to me.", "Stay with me tonight, {warm}.",
    "I made this {gift} just for you.", "My heart is yours, {warm}.", "Every day without you feels empty.",
    "Come back to me safe, {warm}. I'll be waiting.", "You're the best thing that ever happened to me.",
    "I adore you, {warm}.", "Dance with me at the harvest feast?",
    "Meet me at {place} at {time}? Just the two of us.", "I kept the {gift} you gave me close to my heart.",
    "When you're near, {warm}, I forget the whole world.", "Let's {date} together, {warm}, just you and me.",
    "I'll wait for you at {place}, {warm}, however long it takes.", "You're lovelier than the sunrise over {place}.",
], 150)
add("comfort", 2, 0.8, [
    "It's all right, {warm}. You're safe now.", "Don't cry. I'm right here.", "We'll get through this together.",
    "You're not alone. I'll stay with you.", "Rest now. I'll keep watch.", "It wasn't your fault, {warm}.",
    "Here, have some warm soup. You'll feel better.", "Everything will be fine, I promise.",
    "Take my hand. I won't let anything happen to you.", "Shh, the danger has passed. Breathe.",
    "Lean on me, {warm}. That's what friends are for.", "I'll help you find your {folk}, don't worry.",
    "You did all you could. Be gentle with yourself.", "Sit by the fire and warm your hands, {warm}.",
    "Don't be afraid, {warm}. The {monster} can't reach us here.", "We'll bring your {folk} home, {warm}. I swear it.",
    "Cry if you need to, {warm}. I'm not going anywhere.", "Your {folk} would be proud of you, {warm}.",
    "Take my {item}, {warm}. You need it more than I do.", "Whatever happened at {place}, you're safe with me.",
], 130)
add("joy", 2, 0.3, [
    "We did it! {place} is safe!", "What a glorious morning!", "The harvest is the best in years!",
    "My {folk} has come home at last!", "Hooray, the rain has finally come!", "I'm so happy I could sing!",
    "Victory! The {monster} is dead!", "The baby is born, healthy and strong!", "Ha! We're rich!",
    "My {folk} is getting married at {place}!", "We found the {item}! I can't believe it!",
    "Best day of my life!", "Tonight we feast and dance!",
], 80)

# ---------------------------------------------------------------- neutral / mixed
add("apology", 1, 0.3, [
    "Sorry, I didn't mean to {oops}.", "My apologies for the {mess}.", "Forgive me, I {oops2}.",
    "I'm sorry about the {item}. I'll replace it.", "Excuse me, I {oops2}.", "Sorry for the wait.",
    "Apologies, {name} isn't here right now.", "Forgive the {mess}, we weren't expecting guests.",
    "Sorry, I wasn't listening. Say that again?", "I apologise for my {folk}'s rudeness.",
], 90)
add("greeting", 1, 0.2, [
    "Hello, {warm2}.", "Good morning.", "Good day to you.", "Evening, {warm2}.", "Hail, traveller.",
    "Welcome to {place}.", "Greetings. What can I do for you?", "Morning. Looking for something?",
    "Hello. Are you new in town?", "Well met.", "Ah, a visitor. Come in.", "Hi there.",
    "Good morning, {warm2}. Welcome to {place}.", "Hello, {warm2}. Looking for {name}?",
    "Greetings, {warm2}. Come to buy a {item}?", "Good day, {warm2}. {place} is just ahead.",
], 80)
add("greeting", 2, 0.6, [
    "{warm_cap}! It's so good to see you again!", "Welcome back, {warm}! We missed you!",
    "What a delight to see you, {warm}!", "There you are, {warm}! Come, sit with us!",
], 25)
add("farewell", 2, 0.5, [
    "Safe travels, {warm}.", "Farewell, and may the road be kind to you.", "Goodbye, {warm}. Come back soon.",
    "Take care out there, {warm}.", "Until we meet again, {warm}.", "Go well, and good luck.",
], 45)
add("farewell", 1, 0.1, ["Goodbye.", "I'll be off then.", "See you tomorrow.", "Right. I'm leaving now.", "Bye."], 8)
add("bargaining", 1, 0.0, [
    "How much for the {item}?", "I'll give you {n} silver for the {item}.", "{n} coins, and not a copper more.",
    "What will you take for the {item}?", "Can you do {n} gold instead?", "I'll trade you my {item} for your {item2}.",
    "Half now, half when the {item} is delivered.", "Is the {item} for sale?", "What's your price for {n} {item}s?",
    "Add the {item} and I'll pay {n} silver.", "Do you buy {item}s? I have {n} of them.",
    "I can offer {n} gold. Take it or leave it.",
], 120)
add("bargaining", 2, 0.4, [
    "Deal! {n} silver it is.", "A fair price. I'll take it gladly.", "Done. Pleasure doing business with you.",
], 20)
add("bargaining", 0, -0.3, [
    "{n} gold? That's robbery!", "You're trying to cheat me with that price.", "Your prices are an outrage.",
], 20)
add("quest", 1, 0.1, [
    "Bring me {n} {item}s from {place}.", "Take this letter to {name} at {place}.",
    "Meet me at {place} at {time}.", "Find out who has been stealing from {place}.",
    "Escort the cart to {place} before {time}.", "Clear the {monster}s out of {place} and report back.",
    "Talk to {name}; she knows the way to {place}.", "The key to {place} is hidden under the {item}.",
    "Search {place} for the missing {item}.", "Head north past {place}, then follow the stream.",
    "Deliver these {item}s to the captain at {place}.", "Gather {n} bundles of herbs from the hills.",
], 140)
add("question", 1, 0.0, [
    "Where is {place}?", "Have you seen {name} today?", "How far is it to {place}?", "What time does {place} open?",
    "Who sold you that {item}?", "Which road leads to {place}?", "Do you know where I can buy a {item}?",
    "When does the caravan leave?", "Is {name} still working at {place}?", "What do you know about {faction}?",
    "Can you tell me the way to {place}?", "Why is {place} closed today?", "What's in the crate?",
], 130)
add("info", 1, 0.0, [
    "{place} is two miles east of here.", "{name} runs the stall by {place}.", "The caravan leaves at {time}.",
    "The {item}s are kept in the back room.", "{place} opens at dawn and closes at dusk.",
    "The ferry crosses twice a day.", "My name is {name}. I work at {place}.", "The well water is safe to drink.",
    "Mind the third stair; it creaks.", "The market is held every seventh day.",
    "{name} went to {place} this morning.", "The bridge was rebuilt last spring.",
    "The tax collector comes at the end of the month.", "Stone from the quarry is used for the walls.",
], 130)

FILL = {
    "name": NAMES, "place": PLACES, "item": ITEMS, "item2": ITEMS, "host": HOST, "warm": WARM, "time": TIMES,
    "faction": FACTIONS, "folk": FOLK, "harm": HARM, "fut": FUT, "n": ["two", "three", "five", "ten", "twelve", "twenty", "forty"],
    "kill_tail": ["", " with my bare hands", " before sunrise", " and your whole clan", " if it's the last thing I do",
                  ", you {host}", " slowly", " for what you did"],
    "regret": ["crossing me", "ever setting foot in {place}", "the day you were born", "this insult", "lying to me",
               "laying hands on my {folk}", "every word you just said"],
    "adj": ["stupid", "worthless", "filthy", "spineless", "pathetic", "lazy", "cowardly", "treacherous", "half-witted",
            "foul-smelling", "useless", "miserable", "greedy", "gutless"],
    "noun": ["oaf", "rat", "toad", "fool", "swine", "leech", "braggart", "weasel", "scoundrel", "dolt", "halfwit", "cur"],
    "animal": ["goat", "mule", "chicken", "pig", "sheep", "donkey", "toad", "turnip-eating ox"],
    "task": ["swing a sword", "count to ten", "tie a knot", "hold a torch", "cook an egg", "ride a horse"],
    "thing": ["cooking", "singing", "swordplay", "poetry", "armour", "horse"],
    "smell": ["a wet dog", "rotten fish", "old boots", "the sewer", "a pigsty"],
    "crime": ["stole the tithe", "poisoned the well", "set the barn on fire", "took the ring", "opened the gate to the raiders",
              "killed the sheep", "forged the letter"],
    "crime2": ["sneaking around", "taking coins", "hiding a body", "meeting the smugglers"],
    "topic": ["the gold", "the map", "your past", "the missing children", "where you were"],
    "food": ["stew", "bread", "ale", "porridge", "pie"],
    "body": ["arms", "feet", "shoulders", "knees"],
    "labour": ["hauling stones", "digging ditches", "scrubbing floors", "chopping wood", "carrying sacks"],
    "ref_tail": ["", ", not after what you did", ", not today", ", not ever"],
    "monster": ["wolf", "troll", "wyvern", "ghoul", "bear", "wraith", "ogre", "spider"],
    "favour": ["the help", "saving my {folk}", "the warm bed", "mending my {item}", "the medicine",
               "bringing back my {item}", "standing up for me", "the kind words", "the ride to {place}",
               "guarding the caravan", "the hot meal", "the advice"],
    "trade": ["smith", "archer", "healer", "cook", "tracker", "bard"],
    "skill": ["swordwork", "archery", "healing", "singing", "cooking", "patience"],
    "feat": ["shoot", "fight", "sing", "ride", "climb"],
    "thing2": ["sword", "song", "cake", "garden", "painting"],
    "date": ["dine", "walk by the lake", "watch the stars", "dance"],
    "gift": ["bracelet", "scarf", "pie", "song", "charm"],
    "oops": ["step on your foot", "interrupt", "wake you", "startle you", "spill the ale"],
    "oops2": ["forgot your name", "took the wrong turn", "misread the letter", "lost track of time"],
    "mess": ["mess", "noise", "delay", "confusion", "smoke"],
    "warm2": ["stranger", "traveller", "sir", "madam", "friend"],
    "warm_cap": ["Friend", "Old friend", "My dear", "Hero"],
    "cond": COND,
}


def fill(t, rng):
    for _ in range(4):  # nested slots
        while "{" in t:
            a = t.index("{")
            b = t.index("}", a)
            k = t[a + 1:b]
            t = t[:a] + rng.choice(FILL[k]) + t[b + 1:]
    return t[0].upper() + t[1:]


def generate():
    out, seen = [], set()
    for cat, sent, aff, templates, n in T:
        got, tries = 0, 0
        while got < n and tries < n * 40:
            tries += 1
            t = fill(R.choice(templates), R)
            if t.lower() in seen:
                continue
            seen.add(t.lower())
            out.append({"text": t, "sentiment": sent, "category": cat, "affinity": aff})
            got += 1
    return out


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    rows = generate()
    ev = os.path.join(here, "..", "..", "eval", "game_dialogue.jsonl")
    evt = {json.loads(l)["text"].lower() for l in open(ev, encoding="utf-8")}
    hand = {json.loads(l)["text"].lower() for l in open(os.path.join(here, "game_train.jsonl"), encoding="utf-8")}
    n0 = len(rows)
    rows = [r for r in rows if r["text"].lower() not in hand and r["text"].lower() not in evt]
    print(n0 - len(rows), "generated lines dropped (exact match with hand-written training or eval lines)")
    assert not (evt & {r["text"].lower() for r in rows}), "overlap with eval set"
    with open(os.path.join(here, "game_gen.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    import collections
    print(len(rows), "lines", dict(collections.Counter((r["category"], r["sentiment"]) for r in rows)))
