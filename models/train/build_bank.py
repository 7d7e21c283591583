#!/usr/bin/env python3
"""Rebuild models/response_bank.json from the committed model, without retraining.

One command (from anywhere):   bash models/train/run.sh --bank-only            (add --measure: see below)
or, with the venv:             models/train/.venv/bin/python models/train/build_bank.py [--chat N] [--measure]

Steps: check the committed ONNX model and vocab against models/manifest.json -> split the hand-written game pairs
(models/train/data/game_bank.jsonl) per situation into TRAIN (bank) and a seeded 20 % TEST split
(models/eval/game_bank_test.jsonl, never in the bank) -> run the model (onnxruntime) over the prompts and replies of
the game TRAIN pairs and of the first N chitchat pairs (data.select_chitchat, as train.py) -> write the bank ->
update manifest.json's responseBank entry (bytes, sha256, count) -> update models/train/metrics.json's
response_bank entry and re-render models/MODEL_CARD.md with model_card.py.

--measure also runs the Rust measurements through the real runtime path (native, no wasm):
  cargo test --release --test local_relevance -- --nocapture    (held-out game pairs: fitting situation)
  cargo test --release --test local_fit -- --nocapture          (game-dialogue set: mood does not clash)
and puts their figures into metrics.json and the model card. Without it, the figures of the previous --measure
run stay in metrics.json only if the bank did not change (same sha256); otherwise they are dropped.
"""
import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


import data  # noqa: E402
import response_bank  # noqa: E402
import wordpiece  # noqa: E402

MODELS = os.path.dirname(HERE)
REPO = os.path.dirname(MODELS)
EVAL = os.path.join(MODELS, "eval")
SEED = 1234  # train.py's SEED: the same chitchat selection
GAME_BANK = os.path.join(HERE, "data", "game_bank.jsonl")
GAME_TEST = os.path.join(EVAL, "game_bank_test.jsonl")
BANK_PATH = os.path.join(MODELS, "response_bank.json")
MANIFEST = os.path.join(MODELS, "manifest.json")
METRICS = os.path.join(HERE, "metrics.json")


def cargo_measure():
    """Runs the two Rust measurements and parses their summary lines."""
    out = {}
    for test, key in (("local_relevance", "local_relevance"), ("local_fit", "local_mood_fit")):
        cmd = ["cargo", "test", "--release", "--test", test, "--", "--nocapture"]
        print("running:", " ".join(cmd), flush=True)
        p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        sys.stdout.write(p.stdout[-4000:])
        if p.returncode != 0:
            sys.stderr.write(p.stderr[-4000:])
            raise SystemExit(f"{test} failed")
        # local_relevance's tests print one RESULT_JSON line each, in any order: the held-out game pairs' has
        # "by_situation" and "mood_counts..."; the independent lines' has "follow_ups"
        results = [json.loads(x) for x in re.findall(r"^RESULT_JSON (\{.*\})$", p.stdout, re.M)]
        main = [r for r in results if "follow_ups" not in r]
        if len(main) != 1:
            raise SystemExit(f"{test} printed {len(main)} summary RESULT_JSON lines")
        out[key] = main[0]
        for r in results:
            if "follow_ups" in r:
                out["independent_relevance"] = dict(r, command=" ".join(cmd))
        out[key]["command"] = f"cargo test --release --test {test} -- --nocapture"
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chat", type=int, default=1500, help="chitchat pairs in the bank (default 1500)")
    ap.add_argument("--measure", action="store_true", help="run the Rust relevance and mood-fit measurements")
    ap.add_argument("--no-card", action="store_true", help="do not touch metrics.json / MODEL_CARD.md")
    args = ap.parse_args()

    with open(MANIFEST, encoding="utf-8") as f:
        manifest = json.load(f)
    onnx_path = os.path.join(MODELS, manifest["file"])
    vocab_path = os.path.join(MODELS, manifest["vocab"]["file"])
    assert response_bank.sha256_file(onnx_path) == manifest["sha256"], "the ONNX model does not match manifest.json"
    assert response_bank.sha256_file(vocab_path) == manifest["vocab"]["sha256"], "vocab.txt does not match manifest.json"
    dim = next(o for o in manifest["outputs"] if o["name"] == "embedding")["shape"][1]

    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    tok = wordpiece.WordPiece(vocab_path)

    old = None
    if os.path.exists(BANK_PATH):
        with open(BANK_PATH, encoding="utf-8") as f:
            old = json.load(f)
    before = {"entries": manifest["responseBank"]["count"], "bytes": os.path.getsize(BANK_PATH),
              "gzip_bytes": response_bank.gzip_size(BANK_PATH)} if old else None

    game = response_bank.load_game_bank(GAME_BANK)
    chat_pairs = data.select_chitchat(seed=SEED)[0][: args.chat]
    bank, rb = response_bank.write_bank(sess, tok, game, chat_pairs, dim, BANK_PATH, GAME_TEST, manifest["file"])
    print(f"game pairs {len(game)} -> bank {rb['game_entries']} / test {rb['game_test_pairs']}; chitchat {len(chat_pairs)}")
    if old:  # same model + same chitchat pair -> the same entry as before (a cheap reproducibility check)
        prev = {e["text"]: e for e in old["entries"] if e.get("source", "chat") == "chat"}
        same = sum(1 for e in bank["entries"] if e["source"] == "chat" and e["text"] in prev
                   and all(prev[e["text"]][k] == e[k] for k in ("vec", "promptVec", "sentiment")))
        print(f"chat entries identical to the previous bank's: {same}/{len(chat_pairs)}")
    sha = rb["sha256"]
    rb["before"] = before
    manifest["responseBank"].update({"bytes": rb["bytes"], "sha256": sha, "count": len(bank["entries"]), "dim": dim})
    with open(MANIFEST, "w", encoding="utf-8", newline="\n") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print("response bank:", json.dumps({k: v for k, v in rb.items() if not k.endswith("by_situation")}))

    if args.no_card:
        return
    with open(METRICS, encoding="utf-8") as f:
        metrics = json.load(f)
    prev_rb = metrics.get("response_bank", {})
    if args.measure:
        rb.update(cargo_measure())
    if prev_rb.get("sha256") == sha:  # a re-run that changed nothing keeps the figures of the earlier change
        rb["before"] = prev_rb.get("before")
    if not args.measure and prev_rb.get("sha256") == sha:
        for k in ("local_relevance", "local_mood_fit", "independent_relevance"):
            if k in prev_rb:
                rb[k] = prev_rb[k]
    metrics["response_bank"] = rb
    with open(METRICS, "w", encoding="utf-8", newline="\n") as f:
        json.dump(metrics, f, indent=1, ensure_ascii=False)
    import model_card

    # Only the card's parts about the bank are rendered again: the rest holds hand-written sections (the 2.2.0+
    # version notes) that model_card.py does not produce.
    card = os.path.join(MODELS, "MODEL_CARD.md")
    with open(card, encoding="utf-8") as f:
        current = f.read()
    rendered = os.path.join(HERE, ".card_render.md")
    model_card.write(rendered, metrics, manifest, metrics["card_config"])
    with open(rendered, encoding="utf-8") as f:
        fresh = f.read()
    os.remove(rendered)
    with open(card, "w", encoding="utf-8", newline="\n") as f:
        f.write(splice_bank_parts(current, fresh))
    print("updated", METRICS, "and the response bank parts of MODEL_CARD.md")


def section(text, heading):
    """(start, end) of the `heading` section: from its line to the next heading of the same or a higher level."""
    start = text.index(heading + "\n")
    body = start + len(heading) + 1
    level = heading.split(" ")[0]
    ends = [m.start() for m in re.finditer(r"^#{1,%d} " % len(level), text[body:], re.M)]
    return start, (body + ends[0]) if ends else len(text)


def splice_bank_parts(current, fresh):
    """`current` with its "### Response bank" section and its `response_bank.json` file row taken from `fresh`."""
    a, b = section(current, "### Response bank")
    c, d = section(fresh, "### Response bank")
    out = current[:a] + fresh[c:d] + current[b:]
    row = re.compile(r"^\| `response_bank\.json` \|.*$", re.M)
    new_row = row.search(fresh)
    return row.sub(lambda _: new_row.group(0), out, count=1) if new_row else out


if __name__ == "__main__":
    main()
