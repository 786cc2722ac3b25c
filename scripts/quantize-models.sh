#!/usr/bin/env bash
# Regenerates the committed canonical models (models/*.vouch) from the float ONNX models with
# `vouch model import`, calibrated on the calibration sets and evaluated on the held-out sets.
# Deterministic: re-running it reproduces the committed files byte for byte (a test checks the roots).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -q -p vouch-cli
VOUCH=target/debug/vouch
LABELS=0,1,2,3,4,5,6,7,8,9
for m in digits-mlp-64-32-10 digits-mlp-64-256-10 digits-cnn digits-resmlp; do
  "$VOUCH" model import "models/$m.onnx" --calibration models/data/digits-calib.json \
    --labels "$LABELS" -o "models/$m.vouch" --eval models/data/digits-test.json
done
"$VOUCH" model import models/mnist-mlp-784-128-10.onnx --calibration models/data/mnist-calib.json \
  --labels "$LABELS" -o models/mnist-mlp-784-128-10.vouch --eval models/data/mnist-test.json
