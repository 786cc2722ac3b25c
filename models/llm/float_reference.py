#!/usr/bin/env python3
"""Float reference for SmolLM2-135M-Instruct (issue 9): the dequantized GGUF run in float32 with numpy.

Writes `expected.json` beside this file: the tokenization and greedy answers of the fixed instruction prompts
(`prompts.json`), and the teacher-forced next-token predictions and log-probabilities over the held-out text
(`heldout.txt`, never used for calibration). The Rust side (`vouch model eval`, the tests) compares the integer
model against these numbers, so tests never need Python.

    python3 -m venv ~/.cache/vouch/llm-venv
    ~/.cache/vouch/llm-venv/bin/pip install -r models/llm/requirements.txt
    ~/.cache/vouch/llm-venv/bin/python models/llm/float_reference.py "$(scripts/fetch-smollm2.sh)"

The model (llama architecture, as llama.cpp computes it): token embedding; per block, RMSNorm → Q, K, V
projections → RoPE on Q and K (pairs (2i, 2i+1), θ_i = base^(−2i/d)) → causal grouped-query attention (9 query
heads share 3 key/value heads) → output projection → residual; RMSNorm → SwiGLU (silu(gate) · up) → down
projection → residual; a final RMSNorm and the logits against the tied embedding.
"""

import json
import pathlib
import sys
import time

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

HERE = pathlib.Path(__file__).resolve().parent
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
NEW_TOKENS = 32
HELDOUT_TOKENS = 768


def field(reader, key):
    return reader.fields[key].contents()


def tokenizer_of(reader):
    """The byte-level BPE of the GGUF metadata, with its control tokens matched whole."""
    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ", 1)) for m in field(reader, "tokenizer.ggml.merges")]
    assert field(reader, "tokenizer.ggml.model") == "gpt2" and field(reader, "tokenizer.ggml.pre") == "smollm"
    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    # The `smollm` pre-tokenizer: every digit alone, then GPT-2's byte-level split.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True) for t, k in zip(tokens, types) if k == 3])
    return tok


def chat(prompt):
    """The ChatML template of the GGUF metadata, with its default system message and the generation prompt."""
    return (
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        f"<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"
    )


class Model:
    def __init__(self, reader):
        self.n_layers = int(field(reader, "llama.block_count"))
        self.n_heads = int(field(reader, "llama.attention.head_count"))
        self.n_kv = int(field(reader, "llama.attention.head_count_kv"))
        self.eps = float(field(reader, "llama.attention.layer_norm_rms_epsilon"))
        self.base = float(field(reader, "llama.rope.freq_base"))
        tensors = {t.name: t for t in reader.tensors}

        def w(name):
            t = tensors[name]
            return np.ascontiguousarray(dequantize(t.data, t.tensor_type).astype(np.float32))

        self.embd = w("token_embd.weight")  # [vocab, hidden]
        self.out_norm = w("output_norm.weight")
        self.blocks = [
            {k: w(f"blk.{i}.{k}.weight") for k in (
                "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up",
                "ffn_down")}
            for i in range(self.n_layers)
        ]
        self.hidden = self.embd.shape[1]
        self.head_dim = self.hidden // self.n_heads

    def rms(self, x, g):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * g

    def rope(self, x, pos):
        """x: [T, heads, d]; rotates pairs (2i, 2i+1) by pos · base^(−2i/d)."""
        d = x.shape[-1]
        theta = self.base ** (-np.arange(0, d, 2, dtype=np.float64) / d)
        ang = np.outer(pos, theta)
        cos, sin = np.cos(ang)[:, None, :].astype(np.float32), np.sin(ang)[:, None, :].astype(np.float32)
        even, odd = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = even * cos - odd * sin
        out[..., 1::2] = even * sin + odd * cos
        return out

    def forward(self, ids, cache):
        """Logits [T, vocab] of `ids`, appended after the keys and values in `cache` (a list per block)."""
        start = cache[0][0].shape[0] if cache[0] else 0
        pos = np.arange(start, start + len(ids))
        x = self.embd[ids]
        group = self.n_heads // self.n_kv
        for b, c in zip(self.blocks, cache):
            h = self.rms(x, b["attn_norm"])
            q = (h @ b["attn_q"].T).reshape(len(ids), self.n_heads, self.head_dim)
            k = (h @ b["attn_k"].T).reshape(len(ids), self.n_kv, self.head_dim)
            v = (h @ b["attn_v"].T).reshape(len(ids), self.n_kv, self.head_dim)
            q, k = self.rope(q, pos), self.rope(k, pos)
            if c:
                k, v = np.concatenate([c[0], k]), np.concatenate([c[1], v])
            c[:] = [k, v]
            total = k.shape[0]
            mask = np.arange(total)[None, :] > pos[:, None]
            att = np.empty((len(ids), self.n_heads, self.head_dim), dtype=np.float32)
            for hd in range(self.n_heads):
                kv = hd // group
                s = (q[:, hd, :] @ k[:, kv, :].T) / np.sqrt(self.head_dim)
                s = np.where(mask, -np.inf, s)
                s = np.exp(s - s.max(axis=-1, keepdims=True))
                att[:, hd, :] = (s / s.sum(axis=-1, keepdims=True)) @ v[:, kv, :]
            x = x + att.reshape(len(ids), self.hidden) @ b["attn_output"].T
            h = self.rms(x, b["ffn_norm"])
            gate = h @ b["ffn_gate"].T
            x = x + ((gate / (1 + np.exp(-gate))) * (h @ b["ffn_up"].T)) @ b["ffn_down"].T
        return self.rms(x, self.out_norm) @ self.embd.T

    def fresh_cache(self):
        return [[] for _ in range(self.n_layers)]


def generate(model, ids, eos):
    cache = model.fresh_cache()
    logits = model.forward(np.array(ids), cache)[-1]
    out = []
    while len(out) < NEW_TOKENS:
        nxt = int(np.argmax(logits))  # ties: the lowest index, as the integer model's argmax
        out.append(nxt)
        if nxt == eos:
            break
        logits = model.forward(np.array([nxt]), cache)[-1]
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: float_reference.py MODEL.gguf   (scripts/fetch-smollm2.sh prints the path)")
    import hashlib

    path = pathlib.Path(sys.argv[1])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != GGUF_SHA256:
        sys.exit(f"{path}: sha256 {digest}, expected {GGUF_SHA256}")
    reader = GGUFReader(str(path))
    tok = tokenizer_of(reader)
    eos = int(field(reader, "tokenizer.ggml.eos_token_id"))
    began = time.time()
    model = Model(reader)
    print(f"loaded and dequantized in {time.time() - began:.1f} s", file=sys.stderr)

    prompts = []
    for prompt in json.loads((HERE / "prompts.json").read_text()):
        ids = tok.encode(chat(prompt)).ids
        began = time.time()
        answer = generate(model, ids, eos)
        text = tok.decode(answer, skip_special_tokens=True)
        print(f"{time.time() - began:5.1f} s  {prompt!r} → {text!r}", file=sys.stderr)
        prompts.append({"prompt": prompt, "ids": ids, "answer_ids": answer, "answer": text})

    text = (HERE / "heldout.txt").read_text()
    ids = tok.encode(text).ids[:HELDOUT_TOKENS]
    began = time.time()
    logits = model.forward(np.array(ids), model.fresh_cache()).astype(np.float64)
    logz = np.log(np.exp(logits - logits.max(axis=-1, keepdims=True)).sum(axis=-1)) + logits.max(axis=-1)
    next_logprob = [float(logits[t, ids[t + 1]] - logz[t]) for t in range(len(ids) - 1)]
    ppl = float(np.exp(-np.mean(next_logprob)))
    argmax = [int(a) for a in logits[:-1].argmax(axis=-1)]
    agree = float(np.mean([a == b for a, b in zip(argmax, ids[1:])]))
    print(f"held-out: {len(ids)} tokens in {time.time() - began:.1f} s, perplexity {ppl:.3f}, "
          f"top-1 = next token {agree:.3f}", file=sys.stderr)

    out = {
        "model": {"file": path.name, "sha256": GGUF_SHA256},
        "reference": "dequantized GGUF in float32 numpy (models/llm/float_reference.py)",
        "new_tokens": NEW_TOKENS,
        "prompts": prompts,
        "heldout": {
            "ids": ids,
            "argmax": argmax,
            "next_logprob": [round(p, 5) for p in next_logprob],
            "perplexity": round(ppl, 5),
        },
    }
    (HERE / "expected.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {HERE / 'expected.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
