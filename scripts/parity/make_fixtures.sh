#!/usr/bin/env bash
# Regenerates the PyTorch parity fixtures under java/src/test/resources/parity (run by hand).
#   1. Java writes each tiny model and classifier (weights, config) and inputs.json (ParityFixtures);
#   2. PyTorch recomputes logits, loss, gradients and 5 AdamW steps with the Hugging Face math
#      (make_fixtures.py) into reference.safetensors.
# Needs Maven and PyTorch (Debian: apt-get install python3-torch).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
mvn -B -q -Dcuda=OFF -DskipTests test-compile
deps="$(mktemp)"
trap 'rm -f "$deps"' EXIT
(cd java && mvn -B -q dependency:build-classpath -Dmdep.outputFile="$deps")
cp="java/target/test-classes:java/target/classes:$(cat "$deps")"
java -cp "$cp" ai.lmtrain.parity.ParityFixtures java/src/test/resources/parity
python3="${PYTHON:-python3}"
"$python3" scripts/parity/make_fixtures.py java/src/test/resources/parity/*/
