#!/usr/bin/env python3
"""Integer prototype of SmolLM2-135M-Instruct under Vouch's canonical integer semantics (docs/LLM_INT.md).

Float appears only at import time (`IntModel.__init__`: calibration statistics, scales, multipliers, tables).
The forward pass (`IntModel.forward`) is integer arithmetic on int64 numpy arrays, one function per op, each
with its exact per-element formula. Dot products are evaluated with float64 BLAS on integer-valued arrays:
that is exact because every partial sum stays below 2^53 (every accumulator is < 2^31 by the bounds of
docs/LLM_INT.md §5), and the result is converted back to int64 before any rounding.

Generation is greedy with a key/value cache; every op is row-wise given the static scales, so a decode pass
computes exactly the row the full (teacher-forced) pass would.

    ~/.cache/vouch/llm-venv/bin/python models/llm/int_prototype.py "$(scripts/fetch-smollm2.sh)" [--tokens N]
        [--layers] (per-block residual error vs float) [--write] (writes int_expected.json)
        [--set norm_q=127 ...] (a design variant; see DEFAULT)

Prints per-block agreement of the residual stream with the float model, then the three targets: held-out
top-1 agreement with the float argmax, perplexity ratio, and the prompts whose first 16 greedy tokens match.
"""

import argparse
import json
import pathlib
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import float_reference as fr  # noqa: E402

# ---------------------------------------------------------------------------------------------------------
# Fixed design constants (part of the canonical model format; see docs/LLM_INT.md §2)
# ---------------------------------------------------------------------------------------------------------
RES_FRAC = 10  # residual stream: int32 in units of 2^-10
RES_MAX = (1 << 26) - 1  # every residual element is clamped to ±RES_MAX (real ±65536): Σx² < 2^62
NORM_FRAC = 24  # RMSNorm gains G_i carry at most 24 fractional bits (fewer where |G_i| would reach 2^31)
ROPE_FRAC = 14  # cos/sin tables: int16, units of 2^-14
SCORE_FRAC = 5  # attention scores: int32 in units of 2^-5 nat (after the 1/sqrt(d) scaling)
EXP_FRAC = 20  # exp table: round(2^20 · exp(-d / 2^5))
PROB_FRAC = 15  # probabilities: units of 2^-15 (so a row sums to 2^15 ± its length)
LOGIT_FRAC = 12  # logits: int32 in units of 2^-12
ROPE_ROWS = 4096  # RoPE table rows (positions) built here; the protocol's context limit is 512 (docs/LLM_INT.md §6)
CHUNK = 8192  # argmax, first stage: one (value, index) per chunk of the vocabulary
I8 = (-127, 127)  # int8 activations are symmetric, −128 is never produced


# ---------------------------------------------------------------------------------------------------------
# The rounding primitives (PROTOCOL.md §1.1)
# ---------------------------------------------------------------------------------------------------------
def round_shift(acc, s):
    """`(acc + 2^(s−1)) >> s`, arithmetic shift: rounds half up (towards +∞), also for negative ties.

    `s = 0` is the identity (no rounding). `acc` is int64 with |acc| < 2^62."""
    acc = np.asarray(acc, dtype=np.int64)
    s = np.asarray(s, dtype=np.int64)
    return np.where(s > 0, (acc + (np.int64(1) << np.maximum(s - 1, 0))) >> s, acc)


def requant(acc, m, s, lo, hi):
    """The one formula: `clamp((acc·M + 2^(s−1)) >> s, lo, hi)` with `acc·M` in int64 (|acc| < 2^31, M < 2^31)."""
    return np.clip(round_shift(np.asarray(acc, np.int64) * np.asarray(m, np.int64), s), lo, hi)


def div_round(a, b):
    """`floor((2a + b) / (2b))` for b > 0: a/b rounded half up (the floor division of integers, not C's truncation)."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    return (2 * a + b) // (2 * b)


def isqrt(n):
    """floor(sqrt(n)) for 0 ≤ n < 2^62, exactly (Newton's method on integers; here: float guess then fix-up)."""
    n = np.asarray(n, np.int64)
    r = np.floor(np.sqrt(n.astype(np.float64))).astype(np.int64)
    # the float guess can be off by one near 2^53+; fix up so r² ≤ n < (r+1)²
    r = np.where(r * r > n, r - 1, r)
    r = np.where((r + 1) * (r + 1) <= n, r + 1, r)
    r = np.where(r * r > n, r - 1, r)
    return r


def from_scale(scale, mbits=31):
    """(M, s) with M/2^s ≈ scale, M in [2^(mbits−1), 2^mbits) when s ≤ 62 allows (quant.rs `Requant::from_scale`
    for mbits = 31; the exact-weight denses use mbits = 16 so that |acc · M| < 2^62 with their i64 accumulators)."""
    assert np.isfinite(scale) and scale > 0
    exp = int(np.floor(np.log2(scale)))
    s = min(mbits - 1 - exp, 62)
    assert s >= 1, scale
    m = round(scale * 2.0 ** s)
    if m >= 2 ** mbits:
        s -= 1
        m = round(scale * 2.0 ** s)
    assert m >= 1
    return m, s


def imatmul(a, b):
    """Exact integer matrix product of integer-valued arrays (float64 BLAS, every partial sum < 2^53)."""
    return np.rint(np.asarray(a, np.float64) @ np.asarray(b, np.float64)).astype(np.int64)


# ---------------------------------------------------------------------------------------------------------
# Ops: one function per op, the per-element formula in the docstring
# ---------------------------------------------------------------------------------------------------------
def op_embed(ids, e8, em, es):
    """Embedding gather → residual (int32, units 2^-RES_FRAC).

    `r[t][i] = clamp(round_shift(E[id_t][i] · M_{id_t}, s_{id_t}), ±RES_MAX)`; E [vocab][576] the Q8_0 rows as
    integers (`D_b · q`, |E| < 2^22; the head's weights too), one (M, s) per vocabulary row (|E·M| < 2^53).
    Witness: the row `id_t` of the table (576 B q + 36 B D + 5 B)."""
    return requant(e8[ids], em[ids][:, None], es[ids][:, None], -RES_MAX, RES_MAX)


def op_rmsnorm(r, g, f, eps_term, qmax=127):
    """RMSNorm of a residual row → int8 (per-channel scales folded into G).

    `ss = Σ_i r_i² + E` (int64; |r_i| ≤ 2^26 − 1 so ss < 576·2^52 + E < 2^62), `D = isqrt(ss)`,
    `y_i = clamp(div_round(r_i · G_i, D · 2^16), −B, B)` (B = 127 for int8, 16383 for the int16 final norm) with `G_i = round(2^16 · sqrt(K) · g_i / c_i)`
    (|G_i| < 2^31 so |r_i·G_i| < 2^57) and `E = round(K · eps · 2^(2·RES_FRAC))`.
    Witness: the residual row (576 × 4 B) and the G row (576 × 4 B)."""
    ss = (r * r).sum(axis=-1, keepdims=True) + eps_term
    d = isqrt(ss)
    return np.clip(div_round(r * g[None, :], d << f), -qmax, qmax)


def op_dense(x, w8, m, s, lo, hi, x_shift=None):
    """Dense: `y[n] = clamp(round_shift(acc_n · M_n, s_n − e), lo, hi)`, `acc_n = Σ_k x[k] · W[n][k]`.

    x int16 (zero point 0, |x| ≤ 16383 or 8191); W the GGUF's blocks as integers, `W[n][k] = D[n][k/32]·q[n][k] +
    N[n][k/32]` (|W| < 2^19 for Q4_1, < 2^22 for the Q8_0 head), acc in i64 (< 2^46), M_n < 2^16 so acc·M < 2^62
    (variant wexact=0: int8 W, i32 acc, 31-bit M). `e` = the input row's exponent for an input with a per-token
    power-of-two scale (0 otherwise). Output int16 or residual units (int32) or logits (int32).
    Witness: the input row (2K B, + 1 B exponent) and the weight row (M, s, D and N per block, q: 365 B at K = 576)."""
    acc = imatmul(x, w8.T)
    sh = s[None, :] if x_shift is None else s[None, :] - x_shift[:, None]
    return requant(acc, m[None, :], sh, lo, hi)


def op_add(a, b):
    """Residual add: `y = clamp(a + b, ±RES_MAX)` (both in residual units). Witness: one element of each."""
    return np.clip(a + b, -RES_MAX, RES_MAX)


def op_rope(x, pos, cos_t, sin_t, qmax=127):
    """RoPE on int8 [T, heads, 64], position of row t = its index (plus the cache length).

    Pairs (2i, 2i+1): `y_2i = clamp(round_shift(x_2i·C[p][i] − x_2i+1·S[p][i], 14), −127, 127)`,
    `y_2i+1 = clamp(round_shift(x_2i·S[p][i] + x_2i+1·C[p][i], 14), −127, 127)`, C, S int16 = round(2^14·cos/sin).
    Witness: the pair (2 B) and the table row p (32 × 2 × 2 B, or just the 4 B of entry i)."""
    c = cos_t[pos][:, None, :]
    s = sin_t[pos][:, None, :]
    ev, od = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = np.clip(round_shift(ev * c - od * s, ROPE_FRAC), -qmax, qmax)
    out[..., 1::2] = np.clip(round_shift(ev * s + od * c, ROPE_FRAC), -qmax, qmax)
    return out


def op_scores(q, k, m, s, qpos, kpos):
    """Q·Kᵀ per head with the causal mask: `S[t][h][j] = clamp(round_shift((Σ_d q[t][h][d]·k[j][h/3][d]) · M, s), ±2^30)`
    for `kpos_j ≤ qpos_t`, else the mask value −2^31 (never a real score). Units: 2^-5 nat (1/sqrt(64) folded
    into M). Witness: q row (64 B) and k row (64 B)."""
    heads, kv = q.shape[1], k.shape[1]
    out = np.empty((heads, q.shape[0], k.shape[0]), np.int64)
    for h in range(heads):
        out[h] = requant(imatmul(q[:, h, :], k[:, h // (heads // kv), :].T), m, s, -(1 << 30), 1 << 30)
    mask = kpos[None, :] > qpos[:, None]
    out[:, mask] = -(1 << 31)
    return out


def op_softmax(sc, exp_t):
    """Softmax of a score row (int32, units 2^-5 nat) → probabilities (units 2^-15, uint16).

    `m = max_j S_j` over unmasked j, `d_j = m − S_j ≥ 0`, `E_j = EXP[d_j]` if `d_j < len(EXP)` else 0 (masked: 0),
    `Z = Σ_j E_j` (< 512 · 2^20), `P_j = div_round(E_j · 2^15, Z)`. EXP[d] = round(2^20 · exp(−d/32)) (467 entries).
    Witness: the score row (≤ 512 × 4 B) and the EXP table (467 × 4 B)."""
    valid = sc > -(1 << 31)
    mx = np.where(valid, sc, -(1 << 62)).max(axis=-1, keepdims=True)
    d = mx - sc
    e = np.where(valid & (d < len(exp_t)), exp_t[np.minimum(d, len(exp_t) - 1)], 0)
    z = e.sum(axis=-1, keepdims=True)
    return div_round(e << PROB_FRAC, z)


def op_pv(p, vt, m, s, qmax=127):
    """P·V per head: `y[t][h][d] = clamp(round_shift((Σ_j P[t][h][j]·Vᵀ[h/3][d][j]) · M, s), −127, 127)`, V stored
    transposed ([kv][64][T]) so each witness is a row. |acc| ≤ (2^15 + 512)·127 < 2^23.
    Witness: the P row (≤ 512 × 2 B) and the Vᵀ row (≤ 512 B)."""
    heads, kv = p.shape[0], vt.shape[0]
    out = np.empty((p.shape[1], heads, vt.shape[1]), np.int64)
    for h in range(heads):
        out[:, h, :] = requant(imatmul(p[h], vt[h // (heads // kv)].T), m, s, -qmax, qmax)
    return out


def op_table(x, table, offset):
    """Elementwise lookup: `y = T[x + offset]` (SiLU: int16 → int16, 65536 entries). Witness: one table leaf."""
    return table[x + offset]


def op_swiglu_product(a, u, qmax=127):
    """Product with a per-token power-of-two scale: `P_i = a_i · u_i` (|P| < 2^30), `A = max_i |P_i|`,
    `e = max(0, bitlen(A) − bitlen(B))`, `y_i = clamp(round_shift(P_i, e), −B, B)` (B = 127: bitlen 7; so A/2^e < 2^7
    and only A's own rounding can reach 128, clamped); the row carries `e` (1 B).
    Witness: the a row and the u row (1536 × 2 B each)."""
    prod = a * u
    amax = np.abs(prod).max(axis=-1)
    bits = np.zeros_like(amax)
    nz = amax > 0
    bits[nz] = np.floor(np.log2(amax[nz])).astype(np.int64) + 1  # exact for amax < 2^53
    e = np.maximum(bits - int(qmax).bit_length(), 0)
    return np.clip(round_shift(prod, e[:, None]), -qmax, qmax), e


def op_argmax(logits):
    """Argmax in two ops: (1) per chunk of 8192 logits, `(max, lowest index of the max)`; (2) over the 6 chunk
    results, the largest value, ties to the lowest index. Witness: one chunk (8192 × 4 B = 32 KiB), then 6 × 8 B."""
    n = logits.shape[-1]
    best_v, best_i = None, None
    for c0 in range(0, n, CHUNK):
        ch = logits[..., c0:c0 + CHUNK]
        i = ch.argmax(axis=-1) + c0  # numpy: first occurrence = lowest index
        v = np.take_along_axis(logits, i[..., None], axis=-1)[..., 0]
        if best_v is None:
            best_v, best_i = v, i
        else:
            better = v > best_v  # strict: a tie keeps the earlier (lower-index) chunk
            best_v, best_i = np.where(better, v, best_v), np.where(better, i, best_i)
    return best_i


# ---------------------------------------------------------------------------------------------------------
# Import time (float allowed): calibration, scales, integer weights and tables
# ---------------------------------------------------------------------------------------------------------
DEFAULT = {
    # The chosen design (docs/LLM_INT.md §1 has the measured alternatives). Bounds B of each activation site:
    # 127 would be int8; the wider ones are int16 tensors whose bound keeps every i32 accumulator exact.
    "norm_q": 16383,  # attn/ffn RMSNorm outputs: 576·16383·127 < 2^31
    "alpha": 0.0,  # SmoothQuant migration strength into the norms' per-channel scales (0: per-tensor scale)
    "final_q": 16383,  # final RMSNorm output (the head reuses the int8 embedding rows)
    "qk_q": 4095,  # q and k after the projection and RoPE: 64·4095² < 2^31
    "v_q": 16383,  # v and the attention output (P·V), per-channel scales
    "gu_q": 32767,  # gate and up projections: int16, SiLU as a 65535-entry table
    "p_q": 8191,  # down-projection input, per-token power-of-two scale: 1536·8191·127 < 2^31
    "clip": 1.0,  # static scales: calibration absmax × clip
    "emb_q": 127,  # embedding gather table bound (127: the head's int8 rows; larger: a separate table, diagnostic)
    "w_q": 127,
    "wexact": 1,  # 1: the GGUF's Q4_1 / Q8_0 weights kept exactly as integers (group scales), i64 accumulators  # weight bound (127: int8; a larger value is only a diagnostic of the weight rounding's share)
}


def float_forward(m, ids, record=None):
    """The float reference's forward (one pass, no cache), recording what calibration and the per-block report need."""
    T = len(ids)
    pos = np.arange(T)
    x = m.embd[ids]
    rec = record if record is not None else {}

    def put(name, a):
        a = np.abs(a.reshape(-1, a.shape[-1])).max(axis=0)
        rec[name] = np.maximum(rec.get(name, 0), a)

    res = [x.copy()]
    for L, b in enumerate(m.blocks):
        h = m.rms(x, b["attn_norm"])
        put(f"an{L}", h)
        q = (h @ b["attn_q"].T).reshape(T, 9, 64)
        k = (h @ b["attn_k"].T).reshape(T, 3, 64)
        v = (h @ b["attn_v"].T).reshape(T, 3, 64)
        put(f"qpre{L}", q.reshape(T, -1))
        put(f"kpre{L}", k.reshape(T, -1))
        q, k = m.rope(q, pos), m.rope(k, pos)
        put(f"q{L}", q.reshape(T, -1))
        put(f"k{L}", k.reshape(T, -1))
        put(f"v{L}", v.reshape(T, -1))
        mask = np.arange(T)[None, :] > pos[:, None]
        att = np.empty((T, 9, 64), np.float32)
        for hd in range(9):
            s = q[:, hd] @ k[:, hd // 3].T / 8
            s = np.where(mask, -np.inf, s)
            s = np.exp(s - s.max(-1, keepdims=True))
            att[:, hd] = (s / s.sum(-1, keepdims=True)) @ v[:, hd // 3]
        x = x + att.reshape(T, -1) @ b["attn_output"].T
        h = m.rms(x, b["ffn_norm"])
        put(f"fn{L}", h)
        g = h @ b["ffn_gate"].T
        u = h @ b["ffn_up"].T
        put(f"g{L}", g)
        put(f"u{L}", u)
        a = g / (1 + np.exp(-g))
        put(f"a{L}", a)
        put(f"p{L}", a * u)
        x = x + (a * u) @ b["ffn_down"].T
        res.append(x.copy())
    put("on", m.rms(x, m.out_norm))
    return res


def quant_rows(w, qmax=127):
    """Per-output-row symmetric int8: W8 = round(W / s_n), s_n = max_k |W[n][k]| / 127."""
    s = np.abs(w).max(axis=1) / qmax
    s = np.where(s > 0, s, 1.0)
    return np.clip(np.rint(w / s[:, None]), -qmax, qmax).astype(np.int64), s


def exact_rows(raw, kind):
    """The GGUF's own weights as integers, exactly up to a 16-bit rounding of each block's f16 scale and min:
    Q4_1 (blocks of 32: f16 d, f16 m, 16 bytes of nibbles, w = d·q + m, q in 0..15) → W[n][k] = D_b·q_k + N_b;
    Q8_0 (f16 d, 32 × int8 q, w = d·q) → W[n][k] = D_b·q_k; with D_b = round(d_b/σ_n), N_b = round(m_b/σ_n),
    σ_n = max_b max(|d_b|, |m_b|) / 32767 per row. Returns (W int64 [N][K], σ [N])."""
    rows = raw.shape[0]
    if kind == "Q4_1":
        blk = raw.reshape(rows, -1, 20)
        d = blk[..., 0:2].copy().view(np.float16)[..., 0].astype(np.float64)
        mn = blk[..., 2:4].copy().view(np.float16)[..., 0].astype(np.float64)
        qs = blk[..., 4:20].astype(np.int64)
        q = np.concatenate([qs & 15, qs >> 4], axis=-1)  # element j < 16: low nibble of byte j; else high of j−16
    else:
        blk = raw.reshape(rows, -1, 34)
        d = blk[..., 0:2].copy().view(np.float16)[..., 0].astype(np.float64)
        mn = np.zeros_like(d)
        q = blk[..., 2:34].copy().view(np.int8).astype(np.int64)
    sig = np.maximum(np.abs(d).max(1), np.abs(mn).max(1)) / 32767
    sig = np.where(sig > 0, sig, 1.0)
    D = np.rint(d / sig[:, None]).astype(np.int64)
    N = np.rint(mn / sig[:, None]).astype(np.int64)
    return (D[..., None] * q + N[..., None]).reshape(rows, -1), sig


def mults(scales, mbits=31):
    ms = [from_scale(float(x), mbits) for x in scales]
    return np.array([a for a, _ in ms], np.int64), np.array([b for _, b in ms], np.int64)


def gain(g, c, K=576):
    """(G, F) of an RMSNorm: G_i = round(2^F · sqrt(K) · g_i / c_i), F ≤ 24 the largest with max |G_i| < 2^31."""
    real = np.sqrt(K) * g / c
    f = min(NORM_FRAC, int(np.floor(np.log2((2 ** 31 - 1) / np.abs(real).max()))))
    while np.abs(np.rint(real * 2.0 ** f)).max() >= 2 ** 31:
        f -= 1
    assert f >= 0
    return np.rint(real * 2.0 ** f).astype(np.int64), f


class IntModel:
    """The canonical integer model: integer weights, (M, s) pairs, gains and tables; nothing float at run time."""

    def __init__(self, m, calib_ids, cfg, raw=None):
        """raw: {tensor name: (GGUF block bytes [rows][bytes], type name)}, needed when cfg["wexact"]."""
        self.cfg = cfg
        exact = bool(cfg["wexact"])
        mb = 16 if exact else 31

        def wrows(name, wt, c_in):
            """(W, σ_n·c_in): the integer weight rows of one dense and the real value of one unit of acc_n."""
            if exact:
                c = np.atleast_1d(c_in)
                assert np.all(c == c[0]), "exact weights need a per-tensor input scale"
                w, sig = exact_rows(*raw[name])
                return w, sig * c[0]
            return quant_rows(wt * np.asarray(c_in)[None, :] if np.ndim(c_in) else wt * c_in, cfg["w_q"])

        cal = {}
        float_forward(m, calib_ids, cal)
        K = m.hidden
        clip = cfg["clip"]
        self.eps_term = int(round(K * m.eps * 2.0 ** (2 * RES_FRAC)))
        # embedding (the Q8_0 rows as integers; variant: per-row int8), also the head's weights (tied)
        self.e8, es = exact_rows(*raw["token_embd.weight"]) if exact else quant_rows(m.embd)
        self.eg, eg_s = (self.e8, es) if cfg["emb_q"] == 127 or exact else quant_rows(m.embd, cfg["emb_q"])
        self.em, self.es = mults(eg_s * 2.0 ** RES_FRAC)
        # RoPE tables
        d = m.head_dim
        theta = m.base ** (-np.arange(0, d, 2, dtype=np.float64) / d)
        ang = np.outer(np.arange(ROPE_ROWS), theta)
        self.cos_t = np.rint(np.cos(ang) * 2 ** ROPE_FRAC).astype(np.int64)
        self.sin_t = np.rint(np.sin(ang) * 2 ** ROPE_FRAC).astype(np.int64)
        # exp table: round(2^20 exp(-d/32)) while ≥ 1/2 rounds to ≥ 1
        n_exp = int(np.floor(2 ** SCORE_FRAC * np.log(2.0 ** (EXP_FRAC + 1)))) + 1
        self.exp_t = np.rint(2.0 ** EXP_FRAC * np.exp(-np.arange(n_exp) / 2 ** SCORE_FRAC)).astype(np.int64)
        self.exp_t = self.exp_t[self.exp_t > 0]

        def norm_gain(g, amax, wcols, qmax):
            """G_i and the per-channel scales c_i of a norm's int8/int16 output (SmoothQuant with strength alpha)."""
            a = np.maximum(amax * clip, 1e-6)
            wc = np.maximum(wcols, 1e-8)
            al = cfg["alpha"]
            mig = a ** al / wc ** (1 - al) if al > 0 else np.ones_like(a)
            c = (a / mig).max() / qmax * mig  # c_i: the real value of one unit of channel i
            return gain(g, c, K), c

        self.blocks = []
        for L, b in enumerate(m.blocks):
            q = {}
            wqkv = np.concatenate([b["attn_q"], b["attn_k"], b["attn_v"]])
            q["G_an"], c_an = norm_gain(b["attn_norm"], cal[f"an{L}"], np.abs(wqkv).max(0), cfg["norm_q"])
            s_q = max(cal[f"q{L}"].max(), cal[f"qpre{L}"].max()) * clip / cfg["qk_q"]
            s_k = max(cal[f"k{L}"].max(), cal[f"kpre{L}"].max()) * clip / cfg["qk_q"]
            s_v = np.maximum(cal[f"v{L}"] * clip, 1e-6) / cfg["v_q"]  # per channel (kv head, d)
            if exact:
                s_v = np.full_like(s_v, s_v.max())  # per tensor: the o projection keeps the GGUF's weights
            for name, wt, out in (("q", b["attn_q"], np.full(576, s_q)), ("k", b["attn_k"], np.full(192, s_k)),
                                  ("v", b["attn_v"], s_v)):
                w8, sw = wrows(f"blk.{L}.attn_{name}.weight", wt, c_an)
                q[f"w{name}"] = w8
                q[f"m{name}"], q[f"s{name}"] = mults(sw / out, mb)
            q["m_qk"], q["s_qk"] = from_scale(s_q * s_k / np.sqrt(d) * 2 ** SCORE_FRAC)
            # P·V keeps v's per-channel scale: y = round_shift(acc, 15) (M = 1, s = 15)
            q["m_pv"], q["s_pv"] = 1, PROB_FRAC
            c_att = np.concatenate([s_v.reshape(3, 64)[h // 3] for h in range(9)])  # head h reads kv head h // 3
            w8, sw = wrows(f"blk.{L}.attn_output.weight", b["attn_output"], c_att)
            q["wo"], (q["mo"], q["so"]) = w8, mults(sw * 2.0 ** RES_FRAC, mb)
            # FFN
            wgu = np.concatenate([b["ffn_gate"], b["ffn_up"]])
            q["G_fn"], c_fn = norm_gain(b["ffn_norm"], cal[f"fn{L}"], np.abs(wgu).max(0), cfg["norm_q"])
            gq = cfg["gu_q"]
            s_g = cal[f"g{L}"].max() * clip / gq
            s_u = cal[f"u{L}"].max() * clip / gq
            for name, wt, out in (("g", b["ffn_gate"], s_g), ("u", b["ffn_up"], s_u)):
                w8, sw = wrows(f"blk.{L}.ffn_{'gate' if name == 'g' else 'up'}.weight", wt, c_fn)
                q[f"w{name}"] = w8
                q[f"m{name}"], q[f"s{name}"] = mults(sw / out, mb)
            # SiLU table over the gate's whole range
            xs = np.arange(-gq, gq + 1) * s_g
            silu = xs / (1 + np.exp(-xs))
            s_a = silu.max() / gq
            q["silu"] = np.clip(np.rint(silu / s_a), -gq, gq).astype(np.int64)
            q["silu_off"] = gq
            w8, sw = wrows(f"blk.{L}.ffn_down.weight", b["ffn_down"], 1.0)
            q["wd"], (q["md"], q["sd"]) = w8, mults(sw * s_a * s_u * 2.0 ** RES_FRAC, mb)
            # |a·u| < 2^30 ⇒ e ≤ 30 − bitlen(p_q) (17 at ±8191): the shift s − e stays ≥ 1
            assert q["sd"].min() > 30 - int(cfg["p_q"]).bit_length()
            self.blocks.append(q)
        # final norm → int16 (bounded by final_q), head = the embedding's int8 rows, logits in units 2^-12
        self.G_on, c_on = self._final_gain(m, cal, K)
        self.mh, self.sh = mults(es * c_on * 2.0 ** LOGIT_FRAC, mb)
        self.check_bounds()
        # Speed only: keep the int8 weight matrices as integer-valued float64 so that `imatmul` does not convert
        # them on every call (the values, and so every result, are unchanged).
        self.e8 = self.e8.astype(np.float64)  # (the gather table self.eg stays int64)
        for q in self.blocks:
            for name in ("wq", "wk", "wv", "wo", "wg", "wu", "wd"):
                q[name] = q[name].astype(np.float64)

    def check_bounds(self):
        """The registration checks of docs/LLM_INT.md §5 for every dense: the worst |acc| = Σ_k B_x · |W[n][k]|
        stays below 2^53 (exact in float64) and, times M_n, below 2^62 (the i64 rounding step cannot overflow)."""
        cfg = self.cfg
        nq, vq, pq, gq = cfg["norm_q"], cfg["v_q"], cfg["p_q"], cfg["gu_q"]
        for q in self.blocks:
            for w, mm, bx in (("wq", "mq", nq), ("wk", "mk", nq), ("wv", "mv", nq), ("wo", "mo", vq),
                              ("wg", "mg", nq), ("wu", "mu", nq), ("wd", "md", pq)):
                worst = bx * np.abs(q[w]).sum(axis=1)
                assert worst.max() < 2 ** 53 and (worst * q[mm].astype(np.float64)).max() < 2 ** 62, w
            assert gq * gq < 2 ** 30  # the product a·u
        worst = cfg["final_q"] * np.abs(self.e8).sum(axis=1)
        assert worst.max() < 2 ** 53 and (worst * self.mh.astype(np.float64)).max() < 2 ** 62
        assert 64 * cfg["qk_q"] ** 2 < 2 ** 31

    def _final_gain(self, m, cal, K):
        a = cal["on"] * self.cfg["clip"]
        c = a.max() / self.cfg["final_q"]
        return gain(m.out_norm, c, K), c

    def forward(self, ids, cache=None, collect=None):
        """Integer logits [T, vocab] (units 2^-12) of `ids` after the cached keys/values (cache: list per block)."""
        cfg = self.cfg
        start = cache[0]["len"] if cache and cache[0] else 0
        T = len(ids)
        pos = np.arange(start, start + T)
        r = op_embed(np.asarray(ids), self.eg, self.em, self.es)
        if collect is not None:
            collect.append(r.copy())
        nq = cfg["norm_q"]
        for L, q in enumerate(self.blocks):
            h = op_rmsnorm(r, *q["G_an"], self.eps_term, nq)
            qq = op_dense(h, q["wq"], q["mq"], q["sq"], -cfg["qk_q"], cfg["qk_q"]).reshape(T, 9, 64)
            kk = op_dense(h, q["wk"], q["mk"], q["sk"], -cfg["qk_q"], cfg["qk_q"]).reshape(T, 3, 64)
            vv = op_dense(h, q["wv"], q["mv"], q["sv"], -cfg["v_q"], cfg["v_q"]).reshape(T, 3, 64)
            qq = op_rope(qq, pos, self.cos_t, self.sin_t, cfg["qk_q"])
            kk = op_rope(kk, pos, self.cos_t, self.sin_t, cfg["qk_q"])
            if cache is not None:
                c = cache[L]
                if c:
                    kk = np.concatenate([c["k"], kk])
                    vv = np.concatenate([c["v"], vv])
                cache[L] = {"k": kk, "v": vv, "len": kk.shape[0]}
            kpos = np.arange(kk.shape[0])
            sc = op_scores(qq, kk, q["m_qk"], q["s_qk"], pos, kpos)
            p = op_softmax(sc, self.exp_t)
            vt = vv.transpose(1, 2, 0)  # [kv][64][T]
            att = op_pv(p, vt, q["m_pv"], q["s_pv"], cfg["v_q"]).reshape(T, 576)
            r = op_add(r, op_dense(att, q["wo"], q["mo"], q["so"], -RES_MAX, RES_MAX))
            h = op_rmsnorm(r, *q["G_fn"], self.eps_term, nq)
            gq = cfg["gu_q"]
            g = op_dense(h, q["wg"], q["mg"], q["sg"], -gq, gq)
            u = op_dense(h, q["wu"], q["mu"], q["su"], -gq, gq)
            a = op_table(g, q["silu"], q["silu_off"])
            pr, e = op_swiglu_product(a, u, cfg["p_q"])
            r = op_add(r, op_dense(pr, q["wd"], q["md"], q["sd"], -RES_MAX, RES_MAX, x_shift=e))
            if collect is not None:
                collect.append(r.copy())
        h = op_rmsnorm(r, *self.G_on, self.eps_term, cfg["final_q"])
        return op_dense(h, self.e8, self.mh, self.sh, -(2 ** 31 - 1), 2 ** 31 - 1)


# ---------------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------------
def generate(im, ids, eos, n_new):
    cache = [{} for _ in im.blocks]
    logits = im.forward(ids, cache)[-1:]
    out = []
    while len(out) < n_new:
        nxt = int(op_argmax(logits)[0])
        out.append(nxt)
        if nxt == eos:
            break
        logits = im.forward([nxt], cache)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf")
    ap.add_argument("--tokens", type=int, default=768, help="held-out tokens (≤ 768)")
    ap.add_argument("--calib", type=int, default=512, help="calibration tokens")
    ap.add_argument("--prompts", type=int, default=10)
    ap.add_argument("--only", default="", help="comma-separated prompt indices (iteration aid)")
    ap.add_argument("--forced", action="store_true",
                    help="also: the integer argmax teacher-forced on each prompt + the float answer's first 16 tokens")
    ap.add_argument("--layers", action="store_true", help="per-block residual error vs float")
    ap.add_argument("--write", action="store_true", help="write int_expected.json")
    ap.add_argument("--set", action="append", default=[], help="design variant, e.g. --set norm_q=16383")
    args = ap.parse_args()
    cfg = dict(DEFAULT)
    for kv in args.set:
        k, v = kv.split("=")
        if k.isupper():  # a module constant, e.g. SCORE_FRAC=8 (iteration aid)
            globals()[k] = int(v)
            continue
        cfg[k] = type(DEFAULT[k])(float(v))
    print("config", cfg, flush=True)
    path = pathlib.Path(args.gguf)
    import hashlib

    if hashlib.sha256(path.read_bytes()).hexdigest() != fr.GGUF_SHA256:
        sys.exit(f"{path}: not the pinned GGUF (sha256 {fr.GGUF_SHA256})")
    reader = fr.GGUFReader(str(path))
    tok = fr.tokenizer_of(reader)
    eos = int(fr.field(reader, "tokenizer.ggml.eos_token_id"))
    t0 = time.time()
    m = fr.Model(reader)
    calib = tok.encode((HERE / "calibration.txt").read_text()).ids[: args.calib]
    raw = {t.name: (np.asarray(t.data), t.tensor_type.name) for t in reader.tensors}
    im = IntModel(m, np.array(calib), cfg, raw)
    print(f"loaded, calibrated on {len(calib)} tokens and quantized in {time.time() - t0:.1f} s", flush=True)
    exp = json.loads((HERE / "expected.json").read_text())
    ho = exp["heldout"]
    ids = np.array(ho["ids"][: args.tokens])
    n = len(ids)
    t0 = time.time()
    collect = [] if args.layers else None
    logits = im.forward(ids, None, collect)
    dt = time.time() - t0
    print(f"held-out forward: {n} tokens in {dt:.1f} s ({1000 * dt / n:.0f} ms/token)", flush=True)
    if args.layers:
        res = float_forward(m, ids)
        print("block  cos(mean over tokens)  cos(min)  rel.err(median)  rel.err(max)")
        for L, (ri, rf) in enumerate(zip(collect, res)):
            xi = ri.astype(np.float64) / 2 ** RES_FRAC
            rf = rf.astype(np.float64)
            cos = (xi * rf).sum(-1) / np.linalg.norm(xi, axis=-1) / np.linalg.norm(rf, axis=-1)
            rel = np.linalg.norm(xi - rf, axis=-1) / np.linalg.norm(rf, axis=-1)
            print(f"{L:5d}  {cos.mean():.5f}  {cos.min():.5f}  {np.median(rel):.4f}  {rel.max():.4f}")
    am = op_argmax(logits[:-1])
    fam = np.array(ho["argmax"][: n - 1])
    agree = float((am == fam).mean())
    lf = logits.astype(np.float64) / 2 ** LOGIT_FRAC
    mx = lf.max(-1, keepdims=True)
    logz = np.log(np.exp(lf - mx).sum(-1)) + mx[:, 0]
    lp = lf[np.arange(n - 1), ids[1:]] - logz[:-1]
    ppl = float(np.exp(-lp.mean()))
    fppl = float(np.exp(-np.mean(ho["next_logprob"][: n - 1])))
    print(f"held-out {n} tokens: top-1 agreement with float {agree:.4f}, perplexity {ppl:.3f} vs float {fppl:.3f} "
          f"(ratio {ppl / fppl:.4f}), next-token accuracy {float((am == ids[1:]).mean()):.3f}", flush=True)
    same = 0
    answers = []
    chosen = [int(i) for i in args.only.split(",")] if args.only else range(min(args.prompts, len(exp["prompts"])))
    for pr in [exp["prompts"][i] for i in chosen]:
        t0 = time.time()
        ans = generate(im, pr["ids"], eos, 16)
        ok = ans[:16] == pr["answer_ids"][:16]
        same += ok
        answers.append(ans)
        print(f"{time.time() - t0:5.1f} s {'=' if ok else '≠'} {pr['prompt']!r} → {tok.decode(ans)!r}", flush=True)
    print(f"prompts: {same}/{len(chosen)} identical for their first 16 tokens")
    if args.forced:
        hit = total = 0
        for i in range(len(exp["prompts"])):
            pr = exp["prompts"][i]
            ans = pr["answer_ids"][:16]
            lg = im.forward(np.array(pr["ids"] + ans[:-1]))
            pred = op_argmax(lg[len(pr["ids"]) - 1:])
            hit += int((pred == np.array(ans)).sum())
            total += len(ans)
            print(f"  forced {i}: {int((pred == np.array(ans)).sum())}/{len(ans)}", flush=True)
        print(f"teacher-forced on the float answers: {hit}/{total} next tokens equal", flush=True)
    print(f"SUMMARY agree={agree:.4f} ppl_ratio={ppl / fppl:.4f} prompts={same}")
    if args.write:
        out = {"config": cfg, "heldout_tokens": n, "heldout_argmax": [int(x) for x in am],
               "perplexity": round(ppl, 4), "top1_agreement": round(agree, 4),
               "prompts": [{"prompt": p["prompt"], "answer_ids": a} for p, a in zip(exp["prompts"], answers)]}
        (HERE / "int_expected.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
