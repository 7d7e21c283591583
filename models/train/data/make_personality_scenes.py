"""Template-generated in-character replies keyed to one Big-Five trait pole, in game situations, with minimal pairs
-> personality_scenes.jsonl {text, trait (0 O, 1 C, 2 E, 3 A, 4 N), key (+1 high / -1 low / 0 neutral), sit, pair,
tpl}.

Why (issue 20, model 2.3.0): the 2.2.0 personality head was fitted on 798 first-person "I love / I can't stand
<behaviour>" statements and ranked game replies poorly (74 % pairwise). This generator writes what a character
*says* when something happens, so the cue is in how the speaker reacts, not in a self-description.

Procedure (written for this project, not from any evaluation line, and not from the held-out sets' procedure of one
reply per pole per scene): 32 situation noun phrases (SITUATIONS; none of them one of the eight scenes of
`models/eval/personality_heldout_scenes.jsonl` as named in MODEL_CARD.md) x reply *cue templates* per trait pole
(CUES, about 20 per pole, most with a {s} slot for the situation) x a neutral opener and closer (OPEN / CLOSE, words
that carry no trait). For every (situation, trait, frame) the generator writes one high-pole and one low-pole line
with the same situation, opener and closer: a minimal pair (field `pair`), so a head fitted on them must use the cue,
not the topic. Neutral lines (key 0; target 0.5 on every trait) are factual statements about the same situations
(NEUTRAL) plus short acknowledgements, so the head learns that a situation alone is no cue.

`tpl` is the cue template's id ("t-k-i"), used by fit_personality.py to split train / validation by template (a
line's template never appears on both sides). Disjointness from the held-out sets (exact overlap, teacher cosine
>= 0.75 dropped) is checked and reported by fit_personality.py, not here. Deterministic (seeded)."""
import json
import os
import random

R = random.Random(20)

SITUATIONS = [
    "the bandits on the north road", "the harvest fair", "the flooded mill", "the new tax from the capital",
    "the wolf pack in the hills", "the wedding at the manor", "the duel at dawn", "the caravan to the desert",
    "the sickness in the lower town", "the tournament", "the old watchtower", "the collapse at the mine",
    "the envoy from the elves", "the smugglers' offer", "the hunt tomorrow", "the council meeting",
    "the burned granary", "the dragon sightings", "the river crossing", "the siege", "the new apprentice",
    "the missing sheep", "the temple repairs", "the mountain pass", "the night watch", "the deal with the dwarves",
    "the haunted chapel", "the lost child", "the ferry", "the bridge toll", "the king's visit", "the frozen lake",
]

# Cue templates per (trait, key). {s}: a situation ("the flooded mill"). Each line's trait cue is in the reply.
CUES = {
    (0, 1): [
        "{s}? I've never seen anything like it. Tell me everything.",
        "I wonder what the old songs say about {s}. There's a story hiding in it.",
        "Let's not do {s} the usual way. I have a stranger idea, hear me out.",
        "What a curious business, {s}. I want to see it with my own eyes.",
        "I sat up all night imagining what {s} could become.",
        "Maybe the elves see {s} differently. I'd love to ask them how.",
        "Everyone calls {s} a nuisance. I call it a puzzle worth solving.",
        "I'd paint {s} if I could. There's something beautiful in it.",
        "Why does {s} happen at all? I keep turning the question over.",
        "There must be a cleverer way to handle {s}. Let's invent one.",
        "I've read three different accounts of {s}, and none agree. Fascinating.",
        "Take me along to {s}. New things are the only things worth the road.",
        "I'd trade a week of quiet for one strange afternoon like {s}.",
        "Odd ideas are my favourite kind. What if we turned {s} on its head?",
        "Every new place teaches me something. I can't wait to learn more.",
        "Tell me a tale I haven't heard before. I collect them.",
        "I keep a book of strange customs. Yours would fill a whole page.",
        "Let's take the path nobody takes. I want to know where it goes.",
        "What a wonderful riddle. I'll be thinking about it for days.",
        "I'd learn the dwarves' tongue just to read their songs.",
    ],
    (0, -1): [
        "{s} is {s}. No need to dream up anything fancy about it.",
        "We'll handle {s} the way we always have. It worked for my father.",
        "Don't fill my head with theories about {s}. Plain facts, plain work.",
        "New ideas about {s}? No. The old ways are good enough.",
        "I've no interest in the stories behind {s}. Just tell me what needs doing.",
        "Poems about {s} won't fix anything. Leave that to the bards.",
        "Whatever the scholars say about {s}, I'll stick to what I know.",
        "Don't go changing how we deal with {s}. Tradition exists for a reason.",
        "I don't need to understand {s}. I need it sorted, the usual way.",
        "Clever schemes for {s}? Give me the plain old method any day.",
        "Why would anyone want to see {s} up close? Stay where it's familiar.",
        "Talk about {s} all you like. Me, I'll keep to my usual chores.",
        "Same as last year, {s} gets the same treatment. No experiments.",
        "Strange notions make me uneasy. Keep {s} simple and ordinary.",
        "Foreign ways are not for me. Bread, ale and my own bed.",
        "I walk the road I know. Other roads are for fools.",
        "Art and riddles are a waste of daylight. Give me honest work.",
        "My grandfather did it this way, and so will I.",
        "I don't care what lies past the hills. Home is enough.",
        "Fancy talk bores me. Say it plain or don't say it.",
    ],
    (1, 1): [
        "Before {s}, I'll check the supplies twice and write down every step.",
        "I've made a plan for {s}, hour by hour. We stick to it.",
        "{s} starts at dawn, so we'll be ready an hour before. No excuses.",
        "I promised to see {s} through, and I finish what I promise.",
        "Let's sort the tools for {s} tonight, each in its proper place.",
        "I counted every coin we'll need for {s}. It's all in the ledger.",
        "Nobody rests until the work for {s} is done properly.",
        "I want a list for {s}: who goes, what they carry, when they leave.",
        "Careful now. We do {s} step by step, and we do it right.",
        "I've already mended everything we need for {s}. Checked it twice.",
        "Duty first. {s} gets done before any of us sits down.",
        "Mark the hour for {s}. I'll be there on time, as always.",
        "I keep my gear clean and my word kept. {s} is no different.",
        "Let me go over the plan for {s} once more. Details matter.",
        "My chores are finished, the ledger is balanced, and I'm ready.",
        "A job half done is a job not done. I'll finish it tonight.",
        "Everything has its place. I put things back where they belong.",
        "I wrote it all down so nothing gets forgotten.",
        "I'm never late. I set out early and check the road first.",
        "I save a coin from every wage. You never know what comes.",
    ],
    (1, -1): [
        "{s}? I'll think about it tomorrow. Or the day after.",
        "I meant to prepare for {s}, but I forgot. We'll make it up as we go.",
        "Plans for {s}? Bah, we'll wing it and hope for the best.",
        "I lost the list for {s} somewhere. Probably in the tavern.",
        "{s} can wait. I'd rather have a nap first.",
        "I said I'd help with {s}, didn't I? Slipped my mind, sorry.",
        "Who needs to check the supplies for {s}? They're probably fine.",
        "I'll be late for {s}, I always am. Start without me.",
        "I spent the coin for {s} already. It was a good night, though.",
        "Half the work for {s} is done. The other half can rot.",
        "Don't bother me with details about {s}. Near enough is good enough.",
        "I left my tools for {s} out in the rain again. Oh well.",
        "Rules about {s}? I never read them. Too boring.",
        "We'll sort {s} out somehow. Or someone else will.",
        "My chores? Still there from last week. They'll keep.",
        "I forgot where I put my sword again. It'll turn up.",
        "Why plan anything? It never goes to plan anyway.",
        "I spend my wages the day I get them. Tomorrow is tomorrow's problem.",
        "I overslept again. Did I miss anything important?",
        "The mess in my room can wait another month.",
    ],
    (2, 1): [
        "{s}! Everyone's coming, aren't they? I'll bring the ale and the songs.",
        "Let me do the talking at {s}. I love a big crowd.",
        "I told half the town about {s} already. The more the merrier!",
        "Come on, come on, let's go to {s} together. It'll be loud and wonderful.",
        "At {s} I'll make a dozen new friends, you watch me.",
        "Ha! {s} needs somebody cheerful up front. That's me.",
        "I'll lead the singing after {s}. Who's with me?",
        "Gather everyone round and I'll tell you all about {s}!",
        "Oh, I can't sit still. Let's get a whole group together for {s}!",
        "I talked to every traveller at the inn about {s}. Lovely folk!",
        "After {s}, drinks for everyone, and I'll be dancing on the tables.",
        "You're new here? Come sit with us, we're all talking about {s}!",
        "I'd go mad sitting alone. Let's get a crowd together!",
        "The busier the tavern, the happier I am.",
        "I've never met a stranger I couldn't talk to.",
        "Music, laughter, friends! Now that's an evening.",
        "I'll introduce you to everybody. Everybody!",
        "Parties are the best part of life. Let's throw one tonight!",
        "Silence? Not while I'm around. Tell me everything!",
        "I love being in the thick of things, shoulder to shoulder.",
    ],
    (2, -1): [
        "{s}... I'd rather stay home. Crowds wear me out.",
        "You go to {s}. I'll keep to myself, if it's all the same.",
        "I'll help with {s}, but quietly, from the back. Let someone else talk.",
        "Too many people at {s}. I'll slip away early.",
        "I don't much like talking about {s}. Or talking at all.",
        "Someone else can speak for us at {s}. I'll stay out of sight.",
        "I'll hear about {s} later. Tonight I want my own company.",
        "{s} sounds noisy. A quiet corner suits me better.",
        "I'd rather walk alone to {s} than with a chattering group.",
        "Hm. {s}. I'll think on it by myself.",
        "Please don't make me speak in front of everyone about {s}.",
        "I'll do my part for {s} alone, in the back room, away from the crowd.",
        "A book and an empty room. That's all I want tonight.",
        "I don't say much. I prefer to listen.",
        "Big gatherings drain me. I'll be at home.",
        "I eat my supper alone, by choice.",
        "I'll leave the feast early. Too much noise.",
        "Solitude is restful. People are tiring.",
        "Mm. Yes. ...That's all I have to say.",
        "I keep my thoughts to myself. It's better that way.",
    ],
    (3, 1): [
        "Don't worry about {s}, I'll help you. We'll share whatever we have.",
        "Poor souls, caught up in {s}. Let me bring them some bread.",
        "Whoever caused {s}, I forgive them. Everyone makes mistakes.",
        "If {s} troubles you, sit with me a while. I'm listening.",
        "Take my share of the pay for {s}. You need it more than I do.",
        "We'll get through {s} together. I trust you completely.",
        "Let me carry that for you. {s} is hard enough on everyone.",
        "I'll speak to both sides about {s}. Nobody needs to fight.",
        "Be gentle with the new folk at {s}. They're doing their best.",
        "You're worried about {s}? Then I'll go with you, of course.",
        "I don't mind the extra work from {s}, as long as it helps you.",
        "Thank you for telling me about {s}. How can I make it easier for you?",
        "Here, have my cloak. You look cold.",
        "I'm sure they meant well. Let's give them another chance.",
        "Of course I'll help. What are neighbours for?",
        "You go first, friend. I'm happy to wait.",
        "Let's split it evenly. No, take the bigger half.",
        "I'd rather be kind than right.",
        "Everyone deserves a second chance, even the ones who wronged me.",
        "Sit, eat, rest. You're welcome at my table any time.",
    ],
    (3, -1): [
        "{s} is your problem, not mine. Don't expect help from me.",
        "Help with {s}? Pay me first, and pay me well.",
        "Whoever caused {s} will pay for it. I never forgive.",
        "I don't care who suffers from {s}. Out of my way.",
        "I'll take the bigger share from {s}. I earned it, you didn't.",
        "I don't trust you, and I don't trust anyone with {s}.",
        "Spare me your sob story about {s}. Everyone has troubles.",
        "If you botch {s}, I'll make sure everyone knows what a fool you are.",
        "Fight over {s} for all I care. I'll watch and laugh.",
        "Beggars keep asking about {s}. Tell them to get lost.",
        "I only care about {s} if there's something in it for me.",
        "You want my help with {s}? Go ask someone softer.",
        "Get your own bread. I don't share.",
        "Move, or I'll move you.",
        "I hold grudges, and I remember yours.",
        "Kindness is for suckers. Look out for yourself.",
        "Don't waste my time with your problems.",
        "I'll cheat you if I can, and you'd do the same.",
        "What's in it for me? Nothing? Then no.",
        "Crying won't get you anything from me.",
    ],
    (4, 1): [
        "{s}... what if it all goes wrong? I can't stop thinking about it.",
        "I couldn't sleep for worrying about {s}. My hands are still shaking.",
        "Oh gods, {s}. We're doomed, I just know it.",
        "Every time someone mentions {s}, my heart starts racing.",
        "I'm so nervous about {s} I feel sick.",
        "Don't talk to me about {s}! I'm on edge as it is.",
        "I keep imagining the worst about {s}. I can't help it.",
        "{s} again? I can't bear it. Everything is falling apart.",
        "I snapped at my sister over {s}. I'm such a wreck lately.",
        "What if {s} is my fault? I keep going over it, again and again.",
        "I'm dreading {s}. Please tell me we don't have to go.",
        "I panicked when I heard about {s}. I still can't calm down.",
        "Every little noise at night sets me trembling.",
        "I fret about everything. It never stops.",
        "I'm so anxious I can hardly breathe.",
        "One bad word and I brood over it for days.",
        "I'm scared, and I can't shake it.",
        "Everything upsets me lately. I'm at the end of my rope.",
        "Please, I can't handle any more bad news.",
        "My stomach's in knots. Something terrible is coming.",
    ],
    (4, -1): [
        "{s}? We'll manage. No sense losing sleep over it.",
        "I've seen worse than {s}. Stay calm and carry on.",
        "{s} doesn't worry me. Things tend to work out.",
        "Relax. {s} is nothing to panic about.",
        "I slept like a baby the night before {s}.",
        "If {s} goes wrong, we shrug and try again.",
        "Keep a cool head about {s}. Panic never helped anyone.",
        "{s}, eh? I'll take it in my stride, as always.",
        "Everyone's fretting about {s}. I'm just having my tea.",
        "Bad news about {s}? Fine. We deal with it calmly.",
        "Nothing about {s} rattles me. Steady hands, steady heart.",
        "I'm perfectly at ease about {s}. Come what may.",
        "Storms come and go. I stay steady.",
        "Mistakes happen. I laugh them off and move on.",
        "I'm calm. I'm always calm.",
        "Insults roll off my back like rain.",
        "Whatever happens, happens. I'm at peace with it.",
        "I wake up cheerful every morning, no matter what.",
        "Worry? Not me. Life's too short.",
        "Take a breath. There's no danger here we can't handle.",
    ],
}

OPEN = ["", "", "", "Well, ", "Hm. ", "Listen. ", "Look, ", "Ah. ", "Right. ", "So. "]
CLOSE = ["", "", "", " That's how it is.", " That's all.", " Anyway.", " You asked."]

NEUTRAL = [
    "The notice about {s} is on the board by the well.", "News of {s} came this morning.",
    "{s} is two days' ride from here.", "Ask the clerk about {s}; he keeps the records.",
    "The meeting about {s} is at noon in the hall.", "The captain will talk about {s} after supper.",
    "{s} was mentioned in the last letter from the city.", "There's a map of {s} in the library.",
    "{s} is on the other side of the valley.", "The herald announced {s} yesterday.",
    "We heard about {s} from the merchants.", "The reeve wrote down the date of {s}.",
    "When did you hear about {s}?", "Who told you about {s}?", "Is {s} far from the village?",
    "The scribe has the list of names for {s}.", "{s} was on the third day of the month.",
    "My brother mentioned {s} in his last letter.", "The guards' report on {s} is in the barracks.",
    "What do the others know about {s}?", "The elder asked about {s} this morning.",
    "You can read about {s} in the town records.", "{s} was before the winter, I believe.",
    "The priest wrote about {s} in the chronicle.",
]
NEUTRAL_PLAIN = [
    "Sure.", "Alright.", "Yes.", "No.", "I see.", "Got it.", "Go on.", "That's right.", "The pump is beside the barn.",
    "Bread is three coppers a loaf.", "The smithy opens at first light.", "It rained last night.", "The inn has two rooms left.",
    "The road turns east after the bridge.", "The market is held on the fifth day.", "The stable is round the back.",
    "The priest lives next to the temple.", "It's about an hour's walk.", "The ferry runs twice a day.",
    "The river is low this time of year.", "The mill grinds barley and oats.", "The gate closes at sundown.",
    "There are three wells in town.", "The letter is for the mayor.", "The boat leaves from the south dock.",
    "Where is the tanner's shop?", "How much is a room for the night?", "What time is it?", "Which road goes north?",
    "The fish came in this morning.", "Two apples, please.", "The key is on the hook by the door.",
    "My name is on the list.", "The cart is in the yard.", "The sheep are in the lower field.",
    "The baker's is next to the tailor.", "The tower has four floors.", "The coins are silver, not gold.",
    "Mm-hm.", "Very well.", "Fine.", "As you say.", "Yes, that one.", "The blue door, on the left.",
    "It's the second house past the mill.", "They sell rope and nails there.", "The moon is full tonight.",
    "The guard changes at midnight.", "The road is paved as far as the river.", "The ale is brewed in town.",
    "Is this the way to the harbour?", "Can you tell me where the healer lives?", "I'm looking for the captain.",
    "The letter came by courier.", "The horses are fed twice a day.", "There's a bench by the fountain.",
]
FRAMES_PER_PAIR = 8


def fill(tpl, s):
    t = tpl.replace("{s}", s)
    return t


def cap(t):
    return t[0].upper() + t[1:]


def join(opener, body):
    """Opener + reply: after a comma the reply goes on in lower case (except "I"), after a full stop it starts a
    sentence."""
    if opener.endswith(", ") and not (body.startswith("I ") or body.startswith("I'")):
        return opener + body[0].lower() + body[1:]
    return opener + cap(body)


def main():
    out, seen = [], set()

    def add(row):
        k = row["text"].lower()
        if k in seen:
            return False
        seen.add(k)
        out.append(row)
        return True

    pair_id = 0
    for t in range(5):
        hi, lo = CUES[(t, 1)], CUES[(t, -1)]
        for si, s in enumerate(SITUATIONS):
            for _ in range(FRAMES_PER_PAIR):
                # A minimal pair: same situation, opener and closer; opposite pole's cue.
                ih, il = R.randrange(len(hi)), R.randrange(len(lo))
                o, c = R.choice(OPEN), R.choice(CLOSE)
                pair_id += 1
                for k, i, tpls in [(1, ih, hi), (-1, il, lo)]:
                    text = join(o, fill(tpls[i], s)) + c
                    add({"text": text, "trait": t, "key": k, "sit": si, "pair": pair_id, "tpl": f"{t}-{k}-{i}"})
        # Every cue template at least once per opener-less frame (covers templates without {s}).
        for k, tpls in [(1, hi), (-1, lo)]:
            for i, tpl in enumerate(tpls):
                for s in R.sample(SITUATIONS, 3):
                    add({"text": cap(fill(tpl, s)), "trait": t, "key": k, "sit": SITUATIONS.index(s), "pair": 0,
                         "tpl": f"{t}-{k}-{i}"})
    for i, tpl in enumerate(NEUTRAL):
        for si, s in enumerate(SITUATIONS):
            if R.random() < 0.6:
                add({"text": cap(fill(tpl, s)), "trait": -1, "key": 0, "sit": si, "pair": 0, "tpl": f"n-{i}"})
    for i, t in enumerate(NEUTRAL_PLAIN):
        add({"text": t, "trait": -1, "key": 0, "sit": -1, "pair": 0, "tpl": f"np-{i}"})
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "personality_scenes.jsonl"), "w", encoding="utf-8") as fh:
        for r in out:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    n_tr = sum(r["key"] != 0 for r in out)
    print(len(out), "lines:", n_tr, "trait lines,", len(out) - n_tr, "neutral")


if __name__ == "__main__":
    main()
