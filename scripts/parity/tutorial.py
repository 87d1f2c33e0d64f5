#!/usr/bin/env python3
"""The from-scratch GPT-2 tutorial's run in plain PyTorch, as the peer of lmtrain's (issue 15).

The model is GPT-2 as lmtrain builds it (HF's GPT2LMHeadModel layout: c_attn with bias, gelu_new,
LayerNorm eps 1e-5, dropout 0.1 on embeddings, attention probabilities and residual branches) made
from nn.Embedding / nn.Linear / nn.LayerNorm, initialised either
  pytorch  the modules' own constructors: embeddings N(0,1), Linear weight and bias U(+-1/sqrt(fan_in)),
           LayerNorm 1/0 (the tutorial's initialisation), or
  hf       transformers' GPT-2 _init_weights: N(0, 0.02), c_proj N(0, 0.02/sqrt(2 n_layer)), biases 0,
with the output head tied to the token embeddings or untied (its own Linear(E, V, bias=False)).
Training is the tutorial's: windows of --context tokens at stride --context (the last partial one
dropped), shuffled each epoch, batch 2, AdamW lr 4e-4, weight decay 0.1 (as lmtrain and HF's
Trainer: not on biases and LayerNorm weights), no clipping, constant lr, --steps steps. Every 10
steps the training loss is measured as the tutorial does: without dropout, over all training windows.

  python3 tutorial.py --ids ids.json --init pytorch --untied --out pytorch.json [--n-embd 768 ...]
  python3 tutorial.py --compare-init lmtrain-init/model.safetensors --init pytorch --untied ...

--ids is `lmtrain tokenize --json --no-special-tokens` output (one {"ids": [...]} per line, joined).
--compare-init reads lmtrain's initial weights (a run with learning_rate 0 and max_steps 1) and
checks each tensor family's mean / std / min / max against this script's own initialisation
within sampling tolerance (see init_stats_agree). The JSON written by --out holds the curve and the
initial-weight statistics.
"""
import argparse
import json
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_fixtures import read_safetensors  # noqa: E402


class Block(torch.nn.Module):
    def __init__(self, e, heads, p):
        super().__init__()
        self.ln_1 = torch.nn.LayerNorm(e, eps=1e-5)
        self.c_attn = torch.nn.Linear(e, 3 * e)
        self.attn_c_proj = torch.nn.Linear(e, e)
        self.ln_2 = torch.nn.LayerNorm(e, eps=1e-5)
        self.c_fc = torch.nn.Linear(e, 4 * e)
        self.mlp_c_proj = torch.nn.Linear(4 * e, e)
        self.heads = heads
        self.drop = torch.nn.Dropout(p)

    def forward(self, x):
        b, t, e = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(e, dim=-1)
        shape = lambda z: z.view(b, t, self.heads, e // self.heads).transpose(1, 2)
        q, k, v = shape(q), shape(k), shape(v)
        scores = q @ k.transpose(-1, -2) / math.sqrt(e // self.heads)
        causal = torch.ones(t, t, dtype=torch.bool).tril()
        scores = scores.masked_fill(~causal, torch.finfo(scores.dtype).min)
        a = self.drop(torch.softmax(scores, dim=-1)) @ v
        x = x + self.drop(self.attn_c_proj(a.transpose(1, 2).reshape(b, t, e)))
        h = torch.nn.functional.gelu(self.c_fc(self.ln_2(x)), approximate="tanh")
        return x + self.drop(self.mlp_c_proj(h))


class Gpt2(torch.nn.Module):
    def __init__(self, vocab, context, e, layers, heads, untied, p=0.1):
        super().__init__()
        self.wte = torch.nn.Embedding(vocab, e)
        self.wpe = torch.nn.Embedding(context, e)
        self.drop = torch.nn.Dropout(p)
        self.h = torch.nn.ModuleList(Block(e, heads, p) for _ in range(layers))
        self.ln_f = torch.nn.LayerNorm(e, eps=1e-5)
        self.lm_head = torch.nn.Linear(e, vocab, bias=False) if untied else None

    def forward(self, ids):
        x = self.drop(self.wte(ids) + self.wpe(torch.arange(ids.shape[1])))
        for block in self.h:
            x = block(x)
        x = self.ln_f(x)
        return self.lm_head(x) if self.lm_head is not None else x @ self.wte.weight.T

    def hf_init(self, std=0.02):
        """transformers' GPT2PreTrainedModel._init_weights."""
        layers = len(self.h)
        for name, p in self.named_parameters():
            if "ln_" in name:
                torch.nn.init.ones_(p) if name.endswith("weight") else torch.nn.init.zeros_(p)
            elif name.endswith("bias"):
                torch.nn.init.zeros_(p)
            elif name.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, 0.0, std / math.sqrt(2 * layers))
            else:
                torch.nn.init.normal_(p, 0.0, std)


def family(name):
    """The tensor family of a parameter name, shared by this model and lmtrain's HF names."""
    for key in ("wte", "wpe", "lm_head", "ln_1.weight", "ln_1.bias", "ln_2.weight", "ln_2.bias",
                "ln_f.weight", "ln_f.bias", "c_attn.weight", "c_attn.bias", "c_fc.weight", "c_fc.bias"):
        if key in name:
            return key
    if "mlp" in name and "c_proj" in name:
        return "mlp.c_proj." + name.rsplit(".", 1)[1]
    if "c_proj" in name:
        return "attn.c_proj." + name.rsplit(".", 1)[1]
    raise ValueError("no family for " + name)


def stats(named_tensors):
    """family -> {n, mean, std, min, max} over every element of the family's tensors."""
    groups = {}
    for name, t in named_tensors:
        groups.setdefault(family(name), []).append(t.detach().reshape(-1).double())
    out = {}
    for key, parts in sorted(groups.items()):
        x = torch.cat(parts)
        out[key] = {"n": x.numel(), "mean": x.mean().item(), "std": x.std(unbiased=False).item(),
                    "min": x.min().item(), "max": x.max().item()}
    return out


def init_stats_agree(ours, theirs):
    """Same distribution within sampling tolerance: |mean diff| <= 6 sd/sqrt(n) (+1e-7), std within
    6 sd/sqrt(2n) (+1e-7), and min/max within 15% of the range (a uniform's extremes sit at its
    bounds; a normal's over ~1e5..1e7 draws wait ~4.5..5.5 sd out and vary by ~3% of the range);
    constant families (LayerNorm, zero biases) exactly."""
    problems = []
    for key, a in ours.items():
        b = theirs.get(key)
        if b is None:
            problems.append(key + ": missing in lmtrain's weights")
            continue
        n = min(a["n"], b["n"])
        sd = max(a["std"], b["std"])
        span = max(a["max"] - a["min"], b["max"] - b["min"])
        checks = [("mean", abs(a["mean"] - b["mean"]) <= 6 * sd / math.sqrt(n) + 1e-7),
                  ("std", abs(a["std"] - b["std"]) <= 6 * sd / math.sqrt(2 * n) + 1e-7),
                  ("min", abs(a["min"] - b["min"]) <= 0.15 * span + 1e-7),
                  ("max", abs(a["max"] - b["max"]) <= 0.15 * span + 1e-7)]
        problems += [f"{key}: {what} {a[what]:.6g} (pytorch) vs {b[what]:.6g} (lmtrain)"
                     for what, ok in checks if not ok]
    return problems


def read_ids(path):
    ids = []
    for line in Path(path).read_text().splitlines():
        if line.strip():
            ids += json.loads(line)["ids"]
    return ids


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ids", help="token ids (lmtrain tokenize --json output)")
    ap.add_argument("--vocab-size", type=int, required=True)
    ap.add_argument("--n-embd", type=int, default=768)
    ap.add_argument("--n-layer", type=int, default=12)
    ap.add_argument("--n-head", type=int, default=12)
    ap.add_argument("--context", type=int, default=256)
    ap.add_argument("--steps", type=int, default=90)
    ap.add_argument("--init", choices=("pytorch", "hf"), required=True)
    ap.add_argument("--untied", action="store_true")
    ap.add_argument("--seed", type=int, default=123)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--compare-init", help="lmtrain's initial model.safetensors: compare the statistics")
    ap.add_argument("--out", help="write the curve and statistics here (JSON)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = Gpt2(a.vocab_size, a.context, a.n_embd, a.n_layer, a.n_head, a.untied)
    if a.init == "hf":
        model.hf_init()
    init = stats(model.named_parameters())
    result = {"init": a.init, "untied": a.untied, "initial_weights": init}
    if a.compare_init:
        problems = init_stats_agree(init, stats(read_safetensors(a.compare_init).items()))
        for p in problems:
            print("init statistics differ:", p)
        print("initial-weight statistics: %d families, %s" % (len(init), "agree" if not problems else "DIFFER"))
        if problems:
            sys.exit(1)
    if a.ids:
        ids = torch.tensor(read_ids(a.ids))
        n = len(ids) // a.context  # lmtrain's chunks: the labels are the inputs, shifted inside the loss
        windows = torch.stack([ids[i * a.context:(i + 1) * a.context] for i in range(n)])
        decay = [p for name, p in model.named_parameters() if not ("ln_" in name or name.endswith("bias"))]
        rest = [p for name, p in model.named_parameters() if "ln_" in name or name.endswith("bias")]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                                lr=4e-4)
        loss_of = lambda w: torch.nn.functional.cross_entropy(
            model(w)[:, :-1].reshape(-1, a.vocab_size), w[:, 1:].reshape(-1))
        curve, step = [], 0
        while step < a.steps:
            order = torch.randperm(n)
            for i in range(0, n - 1, 2):
                model.train()
                opt.zero_grad()
                loss_of(windows[order[i:i + 2]]).backward()
                opt.step()
                step += 1
                if step % 10 == 0:
                    model.eval()
                    with torch.no_grad():
                        curve.append(sum(loss_of(windows[j:j + 1]).item() for j in range(n)) / n)
                    print(f"step {step}: training loss without dropout {curve[-1]:.4f}", flush=True)
                if step == a.steps:
                    break
        result["train_loss_every_10_steps"] = curve
    if a.out:
        Path(a.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
