#!/usr/bin/env python3
"""Reference values for lmtrain's PyTorch parity tests (run by hand, not by CI).

For each model folder given (written by lmtrain's ParityFixtures: model.safetensors, config.json,
inputs.json), this script rebuilds the model in plain PyTorch with the Hugging Face math
(BertForMaskedLM / GPT2LMHeadModel / BertForSequenceClassification / GPT2ForSequenceClassification as
in transformers' modeling_bert.py / modeling_gpt2.py, dropout off), runs it in fp32, and writes
reference.safetensors beside the inputs:

  logits                  (B*T, V)   forward logits (classifiers: (B, num_labels))
  loss                    (1)        mean cross-entropy over labels != -100 (GPT-2: shifted); classifiers:
                                     the loss of config.json's problem_type (cross-entropy, BCE with
                                     logits, MSE) against the per-sequence labels
  grad.<parameter name>   (shape)    gradient of the loss for every parameter
  adamw_losses            (6)        the loss before each of 5 torch.optim.AdamW steps and after the last

Usage:  python3 scripts/parity/make_fixtures.py java/src/test/resources/parity/bert java/src/test/resources/parity/gpt2 ...
Needs only torch (Debian: apt-get install python3-torch).
"""
import json
import math
import struct
import sys
from pathlib import Path

import torch

DTYPES = {"F32": torch.float32, "I32": torch.int32, "I64": torch.int64}


def read_safetensors(path):
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        t = torch.frombuffer(bytearray(body[begin:end]), dtype=DTYPES[entry["dtype"]]).clone()
        tensors[name] = t.reshape(entry["shape"])
    return tensors


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().to(torch.float32)
        raw = t.numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def layer_norm(x, w, b, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)


def gelu_exact(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def attention(q, k, v, heads, additive_mask):
    """q, k, v (B, T, C) -> (B, T, C); additive_mask broadcastable to (B, heads, T, T)."""
    b, t, c = q.shape
    hd = c // heads
    split = lambda x: x.view(b, t, heads, hd).transpose(1, 2)
    q, k, v = split(q), split(k), split(v)
    scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + additive_mask
    probs = torch.softmax(scores, dim=-1)
    return (probs @ v).transpose(1, 2).reshape(b, t, c)


def padding_mask(mask):
    minimum = torch.finfo(torch.float32).min
    return (1.0 - mask[:, None, None, :].float()) * minimum


def bert_body(p, cfg, ids, mask, types):
    """BertModel without its pooler: hidden states (B, T, H)."""
    b, t = ids.shape
    eps = cfg["layer_norm_eps"]
    x = p["bert.embeddings.word_embeddings.weight"][ids] + p["bert.embeddings.position_embeddings.weight"][:t][None] \
        + p["bert.embeddings.token_type_embeddings.weight"][types]
    x = layer_norm(x, p["bert.embeddings.LayerNorm.weight"], p["bert.embeddings.LayerNorm.bias"], eps)
    am = padding_mask(mask)
    lin = lambda x, name: x @ p[name + ".weight"].T + p[name + ".bias"]
    for i in range(cfg["num_hidden_layers"]):
        pre = f"bert.encoder.layer.{i}."
        s = pre + "attention.self."
        ctx = attention(lin(x, s + "query"), lin(x, s + "key"), lin(x, s + "value"), cfg["num_attention_heads"], am)
        a = layer_norm(lin(ctx, pre + "attention.output.dense") + x, p[pre + "attention.output.LayerNorm.weight"],
                       p[pre + "attention.output.LayerNorm.bias"], eps)
        h = lin(gelu_exact(lin(a, pre + "intermediate.dense")), pre + "output.dense")
        x = layer_norm(h + a, p[pre + "output.LayerNorm.weight"], p[pre + "output.LayerNorm.bias"], eps)
    return x


def bert_loss(p, cfg, inputs):
    ids, mask, types, labels = inputs
    b, t = ids.shape
    eps = cfg["layer_norm_eps"]
    lin = lambda x, name: x @ p[name + ".weight"].T + p[name + ".bias"]
    x = bert_body(p, cfg, ids, mask, types)
    h = gelu_exact(lin(x, "cls.predictions.transform.dense"))
    h = layer_norm(h, p["cls.predictions.transform.LayerNorm.weight"], p["cls.predictions.transform.LayerNorm.bias"], eps)
    logits = h @ p["bert.embeddings.word_embeddings.weight"].T + p["cls.predictions.bias"]
    logits = logits.reshape(b * t, -1)
    loss = torch.nn.functional.cross_entropy(logits, labels.reshape(-1), ignore_index=-100)
    return logits, loss


def gpt2_body(p, cfg, ids, mask):
    """GPT2Model: the final hidden states ln_f(x) (B, T, E)."""
    b, t = ids.shape
    eps = cfg["layer_norm_epsilon"]
    heads = cfg["n_head"]
    x = p["transformer.wte.weight"][ids] + p["transformer.wpe.weight"][:t][None]
    minimum = torch.finfo(torch.float32).min
    causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
    am = padding_mask(mask)
    conv = lambda x, name: x @ p[name + ".weight"] + p[name + ".bias"]
    for i in range(cfg["n_layer"]):
        pre = f"transformer.h.{i}."
        h = layer_norm(x, p[pre + "ln_1.weight"], p[pre + "ln_1.bias"], eps)
        q, k, v = conv(h, pre + "attn.c_attn").split(x.shape[-1], dim=-1)
        hd = x.shape[-1] // heads
        split = lambda z: z.view(b, t, heads, hd).transpose(1, 2)
        scores = split(q) @ split(k).transpose(-1, -2) / math.sqrt(hd)
        scores = torch.where(causal, scores, torch.tensor(minimum)) + am
        ctx = (torch.softmax(scores, dim=-1) @ split(v)).transpose(1, 2).reshape(b, t, -1)
        x = x + conv(ctx, pre + "attn.c_proj")
        h = layer_norm(x, p[pre + "ln_2.weight"], p[pre + "ln_2.bias"], eps)
        x = x + conv(gelu_new(conv(h, pre + "mlp.c_fc")), pre + "mlp.c_proj")
    return layer_norm(x, p["transformer.ln_f.weight"], p["transformer.ln_f.bias"], eps)


def gpt2_loss(p, cfg, inputs):
    ids, mask, _, labels = inputs
    b, t = ids.shape
    x = gpt2_body(p, cfg, ids, mask)
    logits = x @ p["transformer.wte.weight"].T
    shifted = logits[:, :-1].reshape(-1, logits.shape[-1])
    loss = torch.nn.functional.cross_entropy(shifted, labels[:, 1:].reshape(-1), ignore_index=-100)
    return logits.reshape(b * t, -1), loss


def classification_loss(logits, labels, cfg):
    """transformers' loss of a *ForSequenceClassification head, by config.json's problem_type."""
    kind = cfg["problem_type"]
    if kind == "single_label_classification":
        return torch.nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1))
    if kind == "multi_label_classification":
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    if logits.shape[-1] == 1:
        return torch.nn.functional.mse_loss(logits.squeeze(), labels.squeeze())
    return torch.nn.functional.mse_loss(logits, labels)


def bert_cls_loss(p, cfg, inputs):
    """BertForSequenceClassification: pooler tanh(dense(x[:, 0])), classifier (dropout off)."""
    ids, mask, types, labels = inputs
    x = bert_body(p, cfg, ids, mask, types)
    pooled = torch.tanh(x[:, 0] @ p["bert.pooler.dense.weight"].T + p["bert.pooler.dense.bias"])
    logits = pooled @ p["classifier.weight"].T + p["classifier.bias"]
    return logits, classification_loss(logits, labels, cfg)


def gpt2_cls_loss(p, cfg, inputs):
    """GPT2ForSequenceClassification: score on every position, read at the rightmost non-pad token."""
    ids, mask, _, labels = inputs
    logits = gpt2_body(p, cfg, ids, mask) @ p["score.weight"].T
    non_pad = (ids != cfg["pad_token_id"]).int()
    last = (torch.arange(ids.shape[-1], dtype=torch.int) * non_pad).argmax(-1)
    pooled = logits[torch.arange(ids.shape[0]), last]
    return pooled, classification_loss(pooled, labels, cfg)


FORWARDS = {"BertForMaskedLM": bert_loss, "GPT2LMHeadModel": gpt2_loss,
            "BertForSequenceClassification": bert_cls_loss, "GPT2ForSequenceClassification": gpt2_cls_loss}


def no_decay(name):
    return name.endswith(".bias") or "LayerNorm.weight" in name or ".ln_" in name


def run(folder):
    folder = Path(folder)
    cfg = json.loads((folder / "config.json").read_text())
    spec = json.loads((folder / "inputs.json").read_text())
    b, t = spec["batch"], spec["seq_len"]
    as_tensor = lambda key: torch.tensor(spec[key], dtype=torch.long).view(b, t)
    forward = FORWARDS[cfg["architectures"][0]]
    if "problem_type" in cfg:  # per-sequence labels: class ids, or float rows
        single = cfg["problem_type"] == "single_label_classification"
        labels = torch.tensor(spec["labels"], dtype=torch.long if single else torch.float32)
    else:
        labels = as_tensor("labels")
    inputs = (as_tensor("input_ids"), as_tensor("attention_mask"),
              as_tensor("token_type_ids") if "token_type_ids" in spec else None, labels)
    params = {k: v.clone().requires_grad_(True) for k, v in read_safetensors(folder / "model.safetensors").items()}
    logits, loss = forward(params, cfg, inputs)
    loss.backward()
    out = {"logits": logits, "loss": loss.reshape(1)}
    out.update({"grad." + k: v.grad.detach().clone() for k, v in params.items()})

    opt_spec = spec["adamw"]
    groups = [
        {"params": [v for k, v in params.items() if not no_decay(k)], "weight_decay": opt_spec["weight_decay"]},
        {"params": [v for k, v in params.items() if no_decay(k)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=opt_spec["lr"], betas=(0.9, 0.999), eps=1e-8)
    losses = []
    for _ in range(opt_spec["steps"]):
        opt.zero_grad()
        _, l = forward(params, cfg, inputs)
        losses.append(l.item())
        l.backward()
        opt.step()
    with torch.no_grad():
        losses.append(forward(params, cfg, inputs)[1].item())
    out["adamw_losses"] = torch.tensor(losses)
    write_safetensors(folder / "reference.safetensors", out)
    print(f"{folder}: loss {loss.item():.6f}, adamw losses {[round(x, 6) for x in losses]}")


if __name__ == "__main__":
    torch.manual_seed(0)
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        run(arg)
