"""Fills the teacher cache with every text the experiment's train.py runs will embed (cache keyed by text)."""
import glob, json, os, sys
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import data
vader = data.load_vader()
ipip = data.load_ipip()
bank_pairs, cc_distill, cc_heldout = data.select_chitchat(seed=1234)
D = os.path.join(HERE, "data"); E = os.path.join(os.path.dirname(HERE), "eval")
texts = []
for f in ["game_gen.jsonl", "game_train.jsonl", "personality_train.jsonl", "personality_gen.jsonl", "sentiment_hard.jsonl",
          "neutral_calib.jsonl", "neutral_calib_facts.jsonl", "personality_scenes.jsonl"]:
    texts += [r["text"] for r in data.load_jsonl(os.path.join(D, f))]
for f in ["game_dialogue.jsonl", "game_dialogue_hard.jsonl", "neutral_lines.jsonl", "neutral_lines_scenes.jsonl", "neutral_player_lines.jsonl"]:
    texts += [r["text"] for r in data.load_jsonl(os.path.join(E, f))]
texts += [r["text"] for r in vader] + [p for p, _ in bank_pairs] + [r for _, r in bank_pairs] + cc_distill + cc_heldout + [d["text"] for d in ipip]
texts = list(dict.fromkeys(texts))
print(len(texts), flush=True)
data.teacher_embed(texts)
print("done", flush=True)
