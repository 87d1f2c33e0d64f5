#!/usr/bin/env python3
"""Hugging Face transformers peer of `lmtrain bench train` (see bench_common.py for the protocol).

Spec (written by lmtrain's TrainSuite): {"warmup", "repetitions",
  "train": [{"case", "config" (config.json), "batch", "seq_len", "parameters": [{"name", "shape", "decay"}],
             "lr", "weight_decay", "max_grad_norm", "seed", "modes": [{"key", "compile"}]}]}
For each case and mode, the median seconds of one optimizer step, synchronised: GPT2LMHeadModel or
BertForMaskedLM (attn_implementation="sdpa"), torch.autocast(bfloat16), loss.backward(),
clip_grad_norm_, torch.optim.AdamW(fused=True) with lmtrain's decay groups, zero_grad(set_to_none=True);
with torch.compile(model) in "compile" mode (its compilation happens in the warm-up steps).
"""
from bench_common import emit, import_torch, log, median_seconds, read_spec, unavailable


def build(transformers, torch, case):
    cfg = dict(case["config"])
    kind = cfg.pop("model_type")
    for key in ("architectures", "torch_dtype", "transformers_version"):
        cfg.pop(key, None)
    if kind == "gpt2":
        model = transformers.GPT2LMHeadModel(transformers.GPT2Config(**cfg, attn_implementation="sdpa"))
    else:
        model = transformers.BertForMaskedLM(transformers.BertConfig(**cfg, attn_implementation="sdpa"))
    return kind, model.cuda().train()


def batch(torch, kind, case, vocab):
    b, t = case["batch"], case["seq_len"]
    ids = torch.randint(4, vocab, (b, t), device="cuda")
    if kind == "gpt2":
        return ids, ids.clone()  # the model shifts the labels
    picked = torch.rand(b, t, device="cuda") < 0.15
    return ids, torch.where(picked, ids, torch.full_like(ids, -100))


def main():
    spec = read_spec(__doc__)
    torch = import_torch()
    if not torch.cuda.is_available():
        unavailable(f"PyTorch {torch.__version__} sees no CUDA device (torch.cuda.is_available() is False)")
    try:
        import transformers
    except ImportError as e:
        unavailable(f"transformers is not installed ({e}); pip install transformers")
    results = {}
    for case in spec["train"]:
        for mode in case["modes"]:
            log(f"torch_train: {mode['key']}")
            torch.manual_seed(case["seed"])
            kind, model = build(transformers, torch, case)
            decay = {p["name"] for p in case["parameters"] if p["decay"]}
            named = list(model.named_parameters())
            groups = [{"params": [p for n, p in named if n in decay], "weight_decay": case["weight_decay"]},
                      {"params": [p for n, p in named if n not in decay], "weight_decay": 0.0}]
            opt = torch.optim.AdamW(groups, lr=case["lr"], betas=(0.9, 0.999), eps=1e-8, fused=True)
            params = [p for _, p in named]
            run = torch.compile(model) if mode["compile"] else model
            ids, labels = batch(torch, kind, case, case["config"]["vocab_size"])

            def step():
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    loss = run(input_ids=ids, labels=labels).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, case["max_grad_norm"])
                opt.step()
                opt.zero_grad(set_to_none=True)

            warmup = max(spec["warmup"], 3 if mode["compile"] else 1)
            results[mode["key"]] = median_seconds(step, warmup, spec["repetitions"], torch.cuda.synchronize)
            del model, run, opt, params, named
            torch.cuda.empty_cache()
    emit(f"transformers {transformers.__version__}, PyTorch {torch.__version__} on {torch.cuda.get_device_name()}",
         results)


if __name__ == "__main__":
    main()
