"""How the response bank's situation model was chosen: 5-fold stratified CV over the bank's own game prompts (the
TRAIN split of data/game_bank.jsonl), never a held-out set. Prints the accuracy of each candidate:

    models/train/.venv/bin/python models/train/situation_cv.py

  knn3            the runtime's rule before the model: the situation whose best 3 prompt cosines have the best mean
  lr emb C        logistic regression on the L2-normalised embedding
  lr emb+tok C w  the same plus the line's distinct word-piece ids, each feature w (response_bank.situation_features)
"""
import collections
import os
import sys

import numpy as np
import onnxruntime as ort
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import response_bank as rb  # noqa: E402
from wordpiece import WordPiece  # noqa: E402

MODELS = os.path.join(HERE, "..")


def knn_predict(x_train, y_train, x_test, k=3):
    sims = x_test @ x_train.T
    classes = sorted(set(y_train))
    scores = np.stack([np.sort(sims[:, y_train == c], axis=1)[:, -k:].mean(1) for c in classes], axis=1)
    return np.array(classes)[scores.argmax(1)]


def main():
    tok = WordPiece(os.path.join(MODELS, "vocab.txt"))
    sess = ort.InferenceSession(os.path.join(MODELS, "unwritten-character-v2.onnx"))
    train, _ = rb.split_game_bank(rb.load_game_bank(os.path.join(HERE, "data", "game_bank.jsonl")))
    prompts = [r["prompt"] for r in train]
    y = np.array([r["situation"] for r in train])
    emb = rb.ort_run(sess, rb.encode_many(tok, prompts))[3]
    e = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    tsets = rb.token_sets(tok, prompts)
    res = collections.defaultdict(list)
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(e, y):
        res["knn3"].append(np.mean(knn_predict(e[tr], y[tr], e[te]) == y[te]))
        columns = {t: j for j, t in enumerate(sorted({t for i in tr for t in tsets[i]}))}
        for c in [1.0, 10.0, 30.0]:
            lr = LogisticRegression(C=c, max_iter=5000).fit(e[tr], y[tr])
            res[f"lr emb C={c}"].append(lr.score(e[te], y[te]))
        for c, w in [(3.0, 0.5), (10.0, 0.3), (10.0, 0.5), (10.0, 1.0), (30.0, 0.5)]:
            rb.SITUATION_TOKEN_WEIGHT = w
            x = rb.situation_features(emb, tsets, columns)
            lr = LogisticRegression(C=c, max_iter=5000).fit(x[tr], y[tr])
            res[f"lr emb+tok C={c} w={w}"].append(lr.score(x[te], y[te]))
    for name, accs in res.items():
        print(f"{name:26s} {np.mean(accs):.3f}")


if __name__ == "__main__":
    main()
