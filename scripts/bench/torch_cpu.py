#!/usr/bin/env python3
"""PyTorch CPU peer of `lmtrain bench cpu` (see bench_common.py for the protocol).

Spec: {"threads": N, "warmup": W, "repetitions": R,
       "gemm":  [{"case", "m", "k", "n", "trans_a", "trans_b"}],            -> seconds of torch.matmul (fp32)
       "train": [{"case", "config", "batch", "seq_len", "parameters": [{"name", "shape", "decay"}],
                  "lr", "weight_decay", "max_grad_norm", "warmup", "steps", "seed",
                  "own_process" (optional)}]}  -> seconds per step
Every result is a median in seconds; lmtrain turns it into GFLOP/s or ms/step with the formulas it uses for ours.
A train case with "own_process": true runs in a Python process of its own (this script, started with
--own-process and the case on stdin), which also reports its peak resident set size (VmHWM of
/proc/self/status, after the last step) as the result "<case> peak RSS", in bytes.
A training step is what Hugging Face's Trainer does per optimizer step in fp32 without dropout:
zero_grad, forward and loss, backward, clip_grad_norm_, torch.optim.AdamW (decay and no-decay groups).
The models are scripts/parity/make_fixtures.py's plain-PyTorch rewrite of transformers' BERT and GPT-2
math (eager attention, as transformers runs it on torch 1.x), built from lmtrain's parameter list.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from bench_common import emit, import_torch, log, median_seconds, read_spec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "parity"))


def gemm_seconds(torch, case, warmup, repetitions):
    m, k, n = case["m"], case["k"], case["n"]
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(k, m, generator=gen).t() if case["trans_a"] else torch.randn(m, k, generator=gen)
    b = torch.randn(n, k, generator=gen).t() if case["trans_b"] else torch.randn(k, n, generator=gen)
    c = torch.empty(m, n)
    return median_seconds(lambda: torch.matmul(a, b, out=c), warmup, repetitions)


def init_parameters(torch, spec, std, gen):
    """Hugging Face initialisation: normal(0, std) weights and embeddings, zero biases, unit LayerNorm weights."""
    params = {}
    for entry in spec:
        name, shape = entry["name"], entry["shape"]
        if name.endswith("bias"):
            t = torch.zeros(shape)
        elif "LayerNorm" in name or ".ln_" in name:
            t = torch.ones(shape)
        else:
            t = torch.randn(shape, generator=gen) * std
        params[name] = t.requires_grad_(True)
    return params


def batch(torch, case, gen):
    """Random ids; MLM labels on ~15% of the positions (BERT) or the ids themselves (GPT-2, shifted by the model)."""
    cfg, b, t = case["config"], case["batch"], case["seq_len"]
    ids = torch.randint(4, cfg["vocab_size"], (b, t), generator=gen)
    mask = torch.ones(b, t, dtype=torch.long)
    if cfg["model_type"] == "bert":
        picked = torch.rand(b, t, generator=gen) < 0.15
        labels = torch.where(picked, ids, torch.full_like(ids, -100))
        return ids, mask, torch.zeros_like(ids), labels
    return ids, mask, None, ids.clone()


def train_step_seconds(torch, case):
    import make_fixtures  # the parity reference models (plain PyTorch, HF math)

    cfg = case["config"]
    for key in ("hidden_dropout_prob", "attention_probs_dropout_prob", "resid_pdrop", "embd_pdrop", "attn_pdrop"):
        if cfg.get(key, 0.0) != 0.0:
            raise ValueError(f"{case['case']}: {key} must be 0 (the reference models have no dropout)")
    forward = make_fixtures.bert_loss if cfg["model_type"] == "bert" else make_fixtures.gpt2_loss
    gen = torch.Generator().manual_seed(case["seed"])
    params = init_parameters(torch, case["parameters"], cfg["initializer_range"], gen)
    inputs = batch(torch, case, gen)
    decay = {e["name"] for e in case["parameters"] if e["decay"]}
    groups = [{"params": [p for n, p in params.items() if n in decay], "weight_decay": case["weight_decay"]},
              {"params": [p for n, p in params.items() if n not in decay], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=case["lr"], betas=(0.9, 0.999), eps=1e-8)
    all_params = list(params.values())

    def step():
        opt.zero_grad(set_to_none=True)
        _, loss = forward(params, cfg, inputs)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(all_params, case["max_grad_norm"])
        opt.step()

    return median_seconds(step, case["warmup"], case["steps"])


def blas_in_use(torch):
    """The BLAS that PyTorch's CPU GEMMs call: the shared libraries of that name mapped into this process
    (Debian's python3-torch calls whichever libblas.so.3 the alternatives system selects), else the
    build configuration's BLAS_INFO (wheels that link their BLAS statically)."""
    try:
        with open("/proc/self/maps") as maps:
            libraries = sorted({line.split()[-1] for line in maps
                                if re.search(r"/lib(open)?blas[^/]*\.so|/libmkl", line)})
    except OSError:
        libraries = []
    if libraries:
        return " + ".join(libraries)
    found = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    return f"BLAS_INFO={found.group(1)}" if found else "BLAS unknown"


def warn_if_reference_blas(blas):
    """Netlib's reference BLAS (Debian's libblas3, what python3-torch gets when no optimised BLAS is
    installed) runs GEMMs single-threaded and several times slower: a peer not worth comparing with."""
    if "/blas/libblas.so" in blas:
        log(f"torch_cpu: warning: PyTorch runs on the reference BLAS ({blas}), single-threaded and several times"
            f" slower than an optimised one; install OpenBLAS (apt-get install libopenblas0-pthread) for a fair peer")


def peak_rss_bytes():
    """VmHWM of this process in bytes, or None where /proc does not report it."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    value, unit = line.split()[1:3]
                    return int(value) * 1024 if unit == "kB" else None
    except OSError:
        pass
    return None


def own_process_case(case):
    """Runs one train case in a new Python process; returns (seconds, peak RSS bytes or None)."""
    child = subprocess.run([sys.executable, __file__, "--own-process"], input=json.dumps(case), text=True,
                           stdout=subprocess.PIPE, check=True)
    result = json.loads(child.stdout)
    return result["seconds"], result.get("peak_rss_bytes")


def own_process_main():
    """The child of own_process_case: one case from stdin, {"seconds", "peak_rss_bytes"} on stdout."""
    case = json.loads(sys.stdin.read())
    torch = import_torch()
    torch.set_num_threads(case["threads"])
    seconds = train_step_seconds(torch, case)
    json.dump({"seconds": seconds, "peak_rss_bytes": peak_rss_bytes()}, sys.stdout)


def main():
    if sys.argv[1:] == ["--own-process"]:
        own_process_main()
        return
    spec = read_spec(__doc__)
    threads = spec["threads"]
    # Read when torch loads. PASSIVE: spinning OpenMP workers starve OpenBLAS's own threads otherwise
    # (3x slower training steps on a 2-core machine); lmtrain sets the same when it runs this script.
    for var, value in (("OMP_NUM_THREADS", threads), ("OPENBLAS_NUM_THREADS", threads), ("OMP_WAIT_POLICY", "PASSIVE")):
        os.environ.setdefault(var, str(value))
    torch = import_torch()
    torch.set_num_threads(threads)
    blas = blas_in_use(torch)
    warn_if_reference_blas(blas)
    results = {}
    for case in spec.get("gemm", []):
        log(f"torch_cpu: {case['case']}")
        results[case["case"]] = gemm_seconds(torch, case, spec["warmup"], spec["repetitions"])
    for case in spec.get("train", []):
        name = case["case"]
        if case.get("own_process"):
            log(f"torch_cpu: {name} (a process of its own)")
            results[name], peak = own_process_case(dict(case, threads=threads))
            if peak is not None:
                results[f"{name} peak RSS"] = peak
        else:
            log(f"torch_cpu: {name}")
            results[name] = train_step_seconds(torch, case)
    emit(f"PyTorch {torch.__version__} CPU, {torch.get_num_threads()} threads, {blas}", results)


if __name__ == "__main__":
    main()
