#!/usr/bin/env bash
# The from-scratch GPT-2 tutorial's run (issue 15), lmtrain against plain PyTorch (tutorial.py).
#   story: the first 20,000 characters of the bundled tinyshakespeare.txt; training loss measured
#   without dropout on the training windows every 10 steps; context 256, batch 2, AdamW lr 4e-4,
#   weight decay 0.1, no clipping, constant lr, dropout 0.1, 90 steps; two runs per library:
#   hf init + tied head, pytorch init + untied head.
# Default model: the CI test's (TutorialBehaviourTest): 4 layers, E 384, 6 heads, a byte-level BPE of
# 4000 trained on the first 300,000 characters. FULL=1: the tutorial's 124M GPT-2 (12 layers, E 768)
# with GPT-2's own (bundled) tokenizer.
# Checks: lmtrain's initial weights (a learning_rate 0 run) against PyTorch's initialisation, family
# by family (tutorial.py --compare-init); prints both curves side by side.
# Needs PyTorch (Debian: apt-get install python3-torch; PYTHON picks the interpreter).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$root/target/tutorial}"
python3="${PYTHON:-/usr/bin/python3}"
lmtrain() { LMTRAIN_CUDA="${LMTRAIN_CUDA:-OFF}" "$root/scripts/lmtrain" "$@"; }
mkdir -p "$out"
shakespeare="$root/java/src/main/resources/ai/lmtrain/data/tinyshakespeare.txt"
head -c 20000 "$shakespeare" > "$out/story.txt"
if [[ "${FULL:-0}" == 1 ]]; then
  model='"n_layer": 12, "n_embd": 768, "n_head": 12'
  torch_model=(--n-layer 12 --n-embd 768 --n-head 12)
  tokenizer="$root/java/src/main/resources/ai/lmtrain/tokenizers/gpt2"
else
  model='"n_layer": 4, "n_embd": 384, "n_head": 6'
  torch_model=(--n-layer 4 --n-embd 384 --n-head 6)
  tokenizer="$out/tokenizer"
  head -c 300000 "$shakespeare" > "$out/tokenizer-corpus.txt"
  [[ -e "$tokenizer" ]] || lmtrain train-tokenizer --type bpe --input "$out/tokenizer-corpus.txt" --vocab-size 4000 \
    --output "$tokenizer"
fi
# The ids lmtrain trains on: each line encoded with its newline, concatenated (train --mode chunks).
lmtrain tokenize --tokenizer "$tokenizer" --file "$out/story.txt" --no-special-tokens --json > "$out/lines.json"
newline="$(lmtrain tokenize --tokenizer "$tokenizer" --text $'\n' --no-special-tokens --json)"
"$python3" - "$out/lines.json" "$newline" > "$out/ids.json" <<'PY'
import json, sys
nl = json.loads(sys.argv[2])["ids"]
ids = []
for line in open(sys.argv[1]):
    if line.strip():
        ids += json.loads(line)["ids"] + nl
print(json.dumps({"ids": ids}))
PY
settings='"n_positions": 256, "max_steps": 90, "per_device_train_batch_size": 2, "per_device_eval_batch_size": 2,
 "learning_rate": 4e-4, "weight_decay": 0.1, "max_grad_norm": 0, "lr_scheduler_type": "constant",
 "warmup_steps": 0, "eval_strategy": "steps", "eval_steps": 10, "logging_steps": 10, "save_strategy": "no",
 "seed": 123, "report_to": "none"'
for run in hf pytorch; do
  init="\"initializer\": \"$run\", \"tie_word_embeddings\": $([[ $run == hf ]] && echo true || echo false)"
  echo "{$model, $init, $settings}" > "$out/$run.json"
  # (a finished run is kept: rerunning the script only does what is missing)
  [[ -f "$out/lmtrain-$run/model.safetensors" ]] || lmtrain train --model gpt2 --corpus "$out/story.txt" \
    --validation "$out/story.txt" --tokenizer "$tokenizer" --mode chunks --context-length 256 \
    --config "$out/$run.json" --output "$out/lmtrain-$run" --overwrite
  untied=(); [[ $run == pytorch ]] && untied=(--untied)
  # lmtrain's initial weights: the same config with learning_rate 0 for one step.
  sed 's/"learning_rate": 4e-4/"learning_rate": 0/; s/"max_steps": 90/"max_steps": 1/' "$out/$run.json" > "$out/$run-init.json"
  [[ -f "$out/lmtrain-$run-init/model.safetensors" ]] || lmtrain train --model gpt2 --corpus "$out/story.txt" \
    --tokenizer "$tokenizer" --mode chunks --context-length 256 --config "$out/$run-init.json" \
    --validation "$out/story.txt" --output "$out/lmtrain-$run-init" --overwrite
  vocab="$("$python3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["vocab_size"])' "$out/lmtrain-$run/config.json")"
  "$python3" "$root/scripts/parity/tutorial.py" --vocab-size "$vocab" "${torch_model[@]}" --init "$run" "${untied[@]}" \
    --compare-init "$out/lmtrain-$run-init/model.safetensors" --ids "$out/ids.json" --out "$out/pytorch-$run.json"
done
"$python3" - "$out" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
for run in ("hf", "pytorch"):
    ours = [json.loads(l)["loss"] for l in (out / f"lmtrain-{run}/metrics.jsonl").read_text().splitlines()
            if json.loads(l).get("split") == "eval"]
    theirs = json.loads((out / f"pytorch-{run}.json").read_text())["train_loss_every_10_steps"]
    print(f"{run:8s} lmtrain {' '.join('%.2f' % x for x in ours)}")
    print(f"{'':8s} pytorch {' '.join('%.2f' % x for x in theirs)}")
PY
