#!/usr/bin/env python3
"""PyTorch CUDA peer of `lmtrain bench kernels` (see bench_common.py for the protocol).

Spec (written by lmtrain's KernelsSuite; every result is the median seconds of one call, synchronised):
  {"warmup", "repetitions", "dtype": "bfloat16",
   "gemm": [{"case", "m", "k", "n", "trans_a", "trans_b"}],          torch.matmul(op(A), op(B), out=C)
   "attention": {"case_forward", "case_backward", "batch", "heads", "seq_len", "head_dim"},
                                                                       SDPA, flash backend, causal; q, k, v
                                                                       views of one packed (B, T, 3, H, d) tensor
   "cross_entropy": {"case", "rows", "vocab"},                         F.cross_entropy(logits.float()) + its grad
                                                                       w.r.t. the bf16 logits (as HF computes the loss)
   "adamw": {"case", "shapes", "lr", "weight_decay"},                  torch.optim.AdamW(fused=True) step, fp32
   "layer_norm": {"case_forward", "case_backward", "rows", "dim", "eps"}}  F.layer_norm and its backward
"""
from bench_common import emit, import_torch, log, median_seconds, read_spec, unavailable


def main():
    spec = read_spec(__doc__)
    torch = import_torch()
    if not torch.cuda.is_available():
        unavailable(f"PyTorch {torch.__version__} sees no CUDA device (torch.cuda.is_available() is False)")
    F = torch.nn.functional
    dev = torch.device("cuda")
    dt = getattr(torch, spec["dtype"])
    warmup, reps = spec["warmup"], spec["repetitions"]
    sync = torch.cuda.synchronize
    timed = lambda fn: median_seconds(fn, warmup, reps, sync)
    results = {}

    for case in spec["gemm"]:
        log(f"torch_kernels: {case['case']}")
        m, k, n = case["m"], case["k"], case["n"]
        a = torch.randn(k, m, device=dev, dtype=dt).t() if case["trans_a"] else torch.randn(m, k, device=dev, dtype=dt)
        b = torch.randn(n, k, device=dev, dtype=dt).t() if case["trans_b"] else torch.randn(k, n, device=dev, dtype=dt)
        c = torch.empty(m, n, device=dev, dtype=dt)
        results[case["case"]] = timed(lambda: torch.matmul(a, b, out=c))
        del a, b, c

    att = spec["attention"]
    log(f"torch_kernels: {att['case_forward']}")
    bsz, heads, t, d = att["batch"], att["heads"], att["seq_len"], att["head_dim"]
    qkv = torch.randn(bsz, t, 3, heads, d, device=dev, dtype=dt, requires_grad=True)
    q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))  # (B, H, T, d) views
    flash = torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.FLASH_ATTENTION)
    with flash:
        results[att["case_forward"]] = timed(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        dout = torch.randn_like(out)
        results[att["case_backward"]] = timed(lambda: torch.autograd.grad(out, qkv, dout, retain_graph=True))
    del qkv, q, k, v, out, dout

    ce = spec["cross_entropy"]
    log(f"torch_kernels: {ce['case']}")
    logits = torch.randn(ce["rows"], ce["vocab"], device=dev, dtype=dt, requires_grad=True)
    labels = torch.randint(0, ce["vocab"], (ce["rows"],), device=dev)

    def cross_entropy():
        loss = F.cross_entropy(logits.float(), labels)
        return torch.autograd.grad(loss, logits)

    results[ce["case"]] = timed(cross_entropy)
    del logits, labels

    opt_spec = spec["adamw"]
    log(f"torch_kernels: {opt_spec['case']}")
    params = [torch.zeros(shape, device=dev, dtype=torch.float32, requires_grad=True) for shape in opt_spec["shapes"]]
    for p in params:
        p.grad = torch.zeros_like(p)
    opt = torch.optim.AdamW(params, lr=opt_spec["lr"], weight_decay=opt_spec["weight_decay"], fused=True)
    results[opt_spec["case"]] = timed(opt.step)
    del params, opt

    ln = spec["layer_norm"]
    log(f"torch_kernels: {ln['case_forward']}")
    x = torch.randn(ln["rows"], ln["dim"], device=dev, dtype=dt, requires_grad=True)
    w = torch.ones(ln["dim"], device=dev, dtype=dt, requires_grad=True)
    b = torch.zeros(ln["dim"], device=dev, dtype=dt, requires_grad=True)
    norm = lambda: F.layer_norm(x, (ln["dim"],), w, b, ln["eps"])
    results[ln["case_forward"]] = timed(norm)
    y = norm()
    dy = torch.randn_like(y)
    results[ln["case_backward"]] = timed(lambda: torch.autograd.grad(y, (x, w, b), dy, retain_graph=True))

    emit(f"PyTorch {torch.__version__} on {torch.cuda.get_device_name()}", results)


if __name__ == "__main__":
    main()
