#!/usr/bin/env python3
"""Stage 5 of scripts/gpu-check: Hugging Face interop of lmtrain's model folders and tokenizers.

Checks, each over a few inputs, ours from the lmtrain CLI (fill-mask / next-token --json --logits,
tokenize --json) and theirs from the host's Python packages:
  1. transformers loads the lab's bert/ and gpt2/ folders unchanged (no missing, unexpected or
     mismatched keys) and its fp32 logits equal ours within 1e-4 (max |difference|), ours on each --device;
  2. a tiny BERT and GPT-2 created by transformers (random weights, every parameter perturbed so that
     no bias is zero and no LayerNorm is the identity) and written with save_pretrained load in lmtrain
     with logits equal to transformers' within 1e-4;
     (a note, not deciding the status: whether lmtrain also loads the GPT-2 config.json with
     transformers' default bos/eos id 50256, which GPT2Config keeps for any vocabulary size);
  3. tokenizers (Rust) loads our tokenizer.json files (the lab's WordPiece, a byte-level BPE trained
     by lmtrain here) and gives our ids; transformers' AutoTokenizer on the lab folder is reported
     too, as a note (it does not decide the status);
  4. classifiers fine-tuned here (`lmtrain finetune` of the lab's BERT and GPT-2 on the bundled topic
     CSVs, a few steps on the CPU): transformers' AutoModelForSequenceClassification loads them with
     no missing or unexpected keys and its label probabilities equal `lmtrain classify`'s within
     1e-4; TensorBoard's own reader (EventAccumulator) reads the run's event file, and its train/loss
     scalars equal metrics.jsonl's training losses.
Writes one JSON object to --result: {"status": passed|failed|skipped, "reason", "versions", "checks":
[{"name", "passed", "required", "max_abs_diff", "detail"}]}; progress goes to stdout. Exit status 0
whenever the result was written.

Usage: hf_interop.py --lmtrain BUNDLE/bin/lmtrain --lab LAB_OUTPUT --work DIR --result FILE [--device cpu ...]
"""
import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TOLERANCE = 1e-4
FILL_MASK_TEXTS = ["The lion is the [MASK] of the savanna.", "Elephants are the [MASK] land animals.",
                   "The cheetah is the [MASK] land animal, and the lion is the king."]
NEXT_TOKEN_TEXTS = ["The lion is", "Elephants are the largest land animals in", "the cheetah is the fastest"]
TOKENIZER_TEXTS = ["The lion is the king of the savanna.", "Elephants are the [MASK] land animals.",
                   "Héllo, WORLD!  It's 2024: naïve café, 東京 and a lion 🦁 ... ok?",
                   "unaffable cheetahs' zebra-crossing (x+y)=z; 3.14159",
                   "   leading and trailing spaces   ", "[CLS] special [SEP] tokens [PAD] inside [UNK] text"]
TINY_BERT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                 max_position_embeddings=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
TINY_GPT2 = dict(n_positions=64, n_embd=32, n_layer=2, n_head=2, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
BPE_VOCAB = 400
TOPICS = Path(__file__).resolve().parents[2] / "java" / "src" / "main" / "resources" / "ai" / "lmtrain" / "data"
CLASSIFY_TEXTS = ["The zebra drinks water at the river.", "The museum shows old paintings.",
                  "The river flows through the valley to the sea."]
FINETUNE_CONFIG = {"max_steps": 12, "learning_rate": 5e-4, "per_device_train_batch_size": 16, "logging_steps": 2,
                   "eval_steps": 6, "save_steps": 6}


class LmtrainError(Exception):
    """An lmtrain command failed; the message is its exit status and last error line."""


class Interop:
    def __init__(self, args):
        self.args = args
        self.work = Path(args.work)
        self.lab = Path(args.lab)
        self.checks = []
        self.pool = ThreadPoolExecutor(max_workers=args.jobs)

    def lmtrain(self, *command):
        """Runs the lmtrain CLI; returns its stdout."""
        argv = [self.args.lmtrain, *command]
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            raise LmtrainError(f"lmtrain {command[0]} exited with status {done.returncode}: "
                               f"{lines[-1] if lines else '(no message)'}")
        return done.stdout

    def ours_logits(self, kind, folder, text, device):
        """Our (tokens, logits) for one text: fill-mask for BERT, next-token for GPT-2, both --logits."""
        command = "fill-mask" if kind == "bert" else "next-token"
        out = json.loads(self.lmtrain(command, "--model", str(folder), "--text", text, "--device", device, "--json",
                                      "--logits"))
        return out["tokens"], out["logits"]

    def check(self, name, passed, detail, max_abs_diff=None, required=True):
        self.checks.append({"name": name, "passed": bool(passed), "required": required, "max_abs_diff": max_abs_diff,
                            "detail": detail})
        print(f"{'ok  ' if passed else 'FAIL'} {name}: {detail}", flush=True)

    def compare_logits(self, torch, name, model, kind, folder, texts, device):
        """One check: the largest |ours - theirs| over the texts' logits, ours on `device`."""
        futures = [self.pool.submit(self.ours_logits, kind, folder, t, device) for t in texts]
        worst, tokens = 0.0, 0
        try:
            for future in futures:
                ids, ours = future.result()
                with torch.no_grad():
                    theirs = model(input_ids=torch.tensor([ids])).logits[0].float()
                ours = torch.tensor(ours, dtype=torch.float32)
                if ours.shape != theirs.shape:
                    self.check(name, False, f"logits of shape {tuple(ours.shape)} vs transformers' "
                                            f"{tuple(theirs.shape)}")
                    return
                worst = max(worst, (ours - theirs).abs().max().item())
                tokens += len(ids)
        except (LmtrainError, ValueError, KeyError) as e:
            self.check(name, False, str(e))
            return
        self.check(name, worst <= TOLERANCE, f"max |ours - transformers| {worst:.2e} over {len(texts)} inputs "
                                             f"({tokens} tokens), tolerance {TOLERANCE:g}", worst)

    def lab_models(self, torch, transformers):
        for kind in ("bert", "gpt2"):
            folder = self.lab / kind
            try:
                model, info = load_pretrained(transformers, kind, folder)
            except Exception as e:  # transformers raises many kinds; each is a failed interop check
                self.check(f"transformers loads lab {kind}/", False, f"{type(e).__name__}: {e}")
                continue
            if info is None:
                self.check(f"transformers loads lab {kind}/ unchanged", False, f"transformers "
                           f"{transformers.__version__} reports no loading info (missing/unexpected keys)",
                           required=False)
            else:
                problems = {k: [str(x) for x in v] for k, v in info.items() if v}
                self.check(f"transformers loads lab {kind}/ unchanged", not problems,
                           "no missing, unexpected or mismatched keys" if not problems else json.dumps(problems))
            texts = FILL_MASK_TEXTS if kind == "bert" else NEXT_TOKEN_TEXTS
            for device in self.args.device:
                self.compare_logits(torch, f"lab {kind}: transformers logits = ours on {device}", model, kind, folder,
                                    texts, device)

    def tiny_models(self, torch, transformers):
        vocab = json.loads((self.lab / "bert" / "config.json").read_text(encoding="utf-8"))["vocab_size"]
        for kind in ("bert", "gpt2"):
            folder = self.work / f"transformers-{kind}"
            shutil.rmtree(folder, ignore_errors=True)
            try:
                torch.manual_seed(0)
                if kind == "bert":
                    model = transformers.BertForMaskedLM(transformers.BertConfig(vocab_size=vocab, **TINY_BERT))
                else:  # the lab GPT-2's bos/eos ids, which its tokenizer (copied below) agrees with
                    lab_config = json.loads((self.lab / "gpt2" / "config.json").read_text(encoding="utf-8"))
                    ids = {key: lab_config.get(key) for key in ("bos_token_id", "eos_token_id")}
                    model = transformers.GPT2LMHeadModel(transformers.GPT2Config(vocab_size=vocab, **ids, **TINY_GPT2))
                with torch.no_grad():
                    for p in model.parameters():  # tied weights are one Parameter: perturbed once
                        p.add_(0.05 * torch.randn_like(p))
                model.eval()
                model.save_pretrained(folder)
            except Exception as e:
                self.check(f"transformers saves a tiny {kind}", False, f"{type(e).__name__}: {e}")
                continue
            for name in ("tokenizer.json", "vocab.txt"):  # lmtrain needs a tokenizer beside the weights
                if (self.lab / kind / name).is_file():
                    shutil.copy(self.lab / kind / name, folder / name)
            texts = FILL_MASK_TEXTS if kind == "bert" else NEXT_TOKEN_TEXTS
            self.compare_logits(torch, f"tiny {kind} saved by transformers: lmtrain logits = transformers' on cpu",
                                model, kind, folder, texts, "cpu")
            if kind == "gpt2":
                self.default_gpt2_ids(transformers, folder, vocab)

    def default_gpt2_ids(self, transformers, folder, vocab):
        """A note: GPT2Config(vocab_size=N) keeps bos/eos at GPT-2's 50256 even for a smaller vocabulary;
        does lmtrain load such a config.json?"""
        default = transformers.GPT2Config().bos_token_id
        if default is None or default < vocab:
            return
        copy = self.work / "transformers-gpt2-default-ids"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(folder, copy)
        config = json.loads((copy / "config.json").read_text(encoding="utf-8"))
        config.update(bos_token_id=default, eos_token_id=default)
        (copy / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        name = f"lmtrain loads a GPT-2 config.json with transformers' default bos/eos id {default} over {vocab} tokens"
        try:
            self.lmtrain("next-token", "--model", str(copy), "--text", NEXT_TOKEN_TEXTS[0], "--json")
            self.check(name, True, "loaded", required=False)
        except LmtrainError as e:
            self.check(name, False, str(e), required=False)

    def classifiers(self, torch, transformers):
        config = self.work / "finetune-config.json"
        config.write_text(json.dumps(FINETUNE_CONFIG), encoding="utf-8")
        for kind in ("bert", "gpt2"):
            folder = self.work / f"classifier-{kind}"
            shutil.rmtree(folder, ignore_errors=True)
            try:
                self.lmtrain("finetune", "--model", str(self.lab / kind), "--output", str(folder), "--config",
                             str(config), "--train", str(TOPICS / "toy_topics_train.csv"), "--validation",
                             str(TOPICS / "toy_topics_validation.csv"), "--text-column", "text", "--label-column",
                             "label")
            except LmtrainError as e:
                self.check(f"lmtrain fine-tunes the lab {kind} into a classifier", False, str(e))
                continue
            self.compare_classifier(torch, transformers, kind, folder)
            self.compare_tensorboard(kind, folder)

    def compare_classifier(self, torch, transformers, kind, folder):
        name = f"transformers loads our {kind} classifier"
        try:
            auto = transformers.AutoModelForSequenceClassification
            try:
                model, info = auto.from_pretrained(str(folder), output_loading_info=True)
            except TypeError:
                model, info = auto.from_pretrained(str(folder)), None
            model = model.float().eval()
        except Exception as e:
            self.check(name, False, f"{type(e).__name__}: {e}")
            return
        problems = {k: [str(x) for x in v] for k, v in (info or {}).items() if v}
        self.check(name + " unchanged", not problems, f"{type(model).__name__}, no missing, unexpected or mismatched"
                   " keys" if not problems else json.dumps(problems))
        labels = model.config.id2label
        worst = 0.0
        try:
            for text in CLASSIFY_TEXTS:
                # lmtrain encodes GPT-2 classifier inputs without the tokenizer's special tokens (a GPT-2
                # tokenizer adds none); the lab's GPT-2 has a WordPiece tokenizer, which would add [CLS]/[SEP]
                plain = ["--no-special-tokens"] if kind == "gpt2" else []
                ids = json.loads(self.lmtrain("tokenize", "--tokenizer", str(folder), "--text", text, *plain,
                                              "--json"))["ids"]
                ours = json.loads(self.lmtrain("classify", "--model", str(folder), "--text", text, "--top-k",
                                               str(len(labels)), "--json"))["results"][0]["labels"]
                with torch.no_grad():
                    probs = torch.softmax(model(input_ids=torch.tensor([ids])).logits[0].float(), -1)
                theirs = {labels[i]: probs[i].item() for i in range(len(labels))}
                if sorted(x["label"] for x in ours) != sorted(theirs):
                    self.check(f"{kind} classifier: transformers probabilities = lmtrain classify", False,
                               f"labels {sorted(x['label'] for x in ours)} vs transformers' {sorted(theirs)}")
                    return
                worst = max(worst, max(abs(x["score"] - theirs[x["label"]]) for x in ours))
        except (LmtrainError, ValueError, KeyError) as e:
            self.check(f"{kind} classifier: transformers probabilities = lmtrain classify", False, str(e))
            return
        self.check(f"{kind} classifier: transformers probabilities = lmtrain classify", worst <= TOLERANCE,
                   f"max |ours - transformers| {worst:.2e} over {len(CLASSIFY_TEXTS)} texts x {len(labels)} labels, "
                   f"tolerance {TOLERANCE:g}", worst)

    def compare_tensorboard(self, kind, folder):
        name = f"TensorBoard reads the {kind} fine-tuning run: train/loss = metrics.jsonl"
        if importlib.util.find_spec("tensorboard") is None:
            self.check(name, False, "the tensorboard package is not installed", required=False)
            return
        try:
            from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
            files = sorted(folder.glob("runs/*/events.out.tfevents.*"))
            if not files:
                self.check(name, False, f"no event file under {folder}/runs")
                return
            accumulator = EventAccumulator(str(files[0].parent))
            accumulator.Reload()
            theirs = [(e.step, e.value) for e in accumulator.Scalars("train/loss")]
            ours = []
            for line in (folder / "metrics.jsonl").read_text(encoding="utf-8").splitlines():
                event = json.loads(line)
                if str(event.get("split", "")).lower() == "train" and event.get("loss") is not None:
                    ours.append((event["step"], event["loss"]))
        except Exception as e:
            self.check(name, False, f"{type(e).__name__}: {e}")
            return
        same = len(ours) == len(theirs) and len(ours) > 0 and all(
            a[0] == b[0] and abs(a[1] - b[1]) <= 1e-6 * max(1.0, abs(a[1])) for a, b in zip(ours, theirs))
        self.check(name, same, f"{len(theirs)} scalars in {files[0].name}, {len(ours)} training losses in "
                   f"metrics.jsonl" + ("" if same else f": first {theirs[:3]} vs {ours[:3]}"))

    def tokenizer_files(self, transformers):
        texts_file = self.work / "tokenizer-texts.txt"
        texts_file.write_text("\n".join(TOKENIZER_TEXTS) + "\n", encoding="utf-8")
        bpe = self.work / "bpe"
        shutil.rmtree(bpe, ignore_errors=True)
        try:
            self.lmtrain("train-tokenizer", "--type", "bpe", "--corpus", str(self.lab / "toy_corpus.txt"),
                         "--vocab-size", str(BPE_VOCAB), "--output", str(bpe))
        except LmtrainError as e:
            self.check("lmtrain trains a byte-level BPE tokenizer", False, str(e))
        files = [("lab WordPiece", self.lab / "bert" / "tokenizer.json"),
                 (f"byte-level BPE (vocab {BPE_VOCAB})", bpe / "tokenizer.json")]
        ours = {label: self.pool.submit(self.lmtrain, "tokenize", "--tokenizer", str(path), "--file", str(texts_file),
                                        "--json") for label, path in files if path.is_file()}
        if importlib.util.find_spec("tokenizers") is None:
            self.check("tokenizers loads our tokenizer.json", False, "the tokenizers package is not installed",
                       required=False)
            return
        import tokenizers
        for label, path in files:
            if label not in ours:
                continue
            try:
                our_ids = [json.loads(line)["ids"] for line in ours[label].result().splitlines() if line.strip()]
                tok = tokenizers.Tokenizer.from_file(str(path))
                their_ids = [tok.encode(t).ids for t in TOKENIZER_TEXTS]
            except Exception as e:
                self.check(f"tokenizers loads our {label} tokenizer.json", False, f"{type(e).__name__}: {e}")
                continue
            self.check(f"tokenizers loads our {label} tokenizer.json and gives our ids", our_ids == their_ids,
                       mismatch_detail(our_ids, their_ids))
        try:
            auto = transformers.AutoTokenizer.from_pretrained(str(self.lab / "bert"))
            our_ids = [json.loads(line)["ids"] for line in ours["lab WordPiece"].result().splitlines() if line.strip()]
            their_ids = [auto(t)["input_ids"] for t in TOKENIZER_TEXTS]
            self.check("transformers AutoTokenizer loads lab bert/ and gives our ids", our_ids == their_ids,
                       f"{type(auto).__name__}: " + mismatch_detail(our_ids, their_ids), required=False)
        except Exception as e:
            self.check("transformers AutoTokenizer loads lab bert/", False, f"{type(e).__name__}: {e}", required=False)


def mismatch_detail(ours, theirs):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            return f"text {i + 1} ({TOKENIZER_TEXTS[i]!r}): ours {a}, theirs {b}"
    if len(ours) != len(theirs):
        return f"{len(ours)} encodings from lmtrain, {len(theirs)} texts"
    return f"equal on {len(ours)} texts"


def load_pretrained(transformers, kind, folder):
    """transformers' model for a folder in fp32 eval mode, with its loading info (None where this
    transformers version no longer reports it)."""
    auto = transformers.AutoModelForMaskedLM if kind == "bert" else transformers.AutoModelForCausalLM
    try:
        model, info = auto.from_pretrained(str(folder), output_loading_info=True)
    except TypeError:
        model, info = auto.from_pretrained(str(folder)), None
    return model.float().eval(), info


def result(status, reason=None, **extra):
    return {"status": status, "reason": reason, **extra}


def run(args):
    for package in ("torch", "transformers"):
        if importlib.util.find_spec(package) is None:
            return result("skipped", f"{package} not installed")
    lab = Path(args.lab)
    missing = [p for p in (lab / "bert" / "config.json", lab / "gpt2" / "config.json", lab / "toy_corpus.txt")
               if not p.is_file()]
    if missing:
        return result("skipped", f"no lab output at {lab} (missing {missing[0].relative_to(lab)}): the GPU lab "
                                 f"did not run or did not finish")
    Path(args.work).mkdir(parents=True, exist_ok=True)
    import torch
    import transformers
    versions = {"torch": torch.__version__, "transformers": transformers.__version__}
    if importlib.util.find_spec("tokenizers") is not None:
        import tokenizers
        versions["tokenizers"] = tokenizers.__version__
    print(f"hf_interop: {versions}", flush=True)
    interop = Interop(args)
    try:
        interop.tokenizer_files(transformers)
        interop.lab_models(torch, transformers)
        interop.tiny_models(torch, transformers)
        interop.classifiers(torch, transformers)
    finally:
        interop.pool.shutdown()
    failed = [c["name"] for c in interop.checks if c["required"] and not c["passed"]]
    return result("failed" if failed else "passed", "; ".join(failed) if failed else None, versions=versions,
                  tolerance=TOLERANCE, checks=interop.checks)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lmtrain", required=True, help="the lmtrain launcher (a bundle's bin/lmtrain)")
    parser.add_argument("--lab", required=True, help="a lab output folder (bert/, gpt2/, toy_corpus.txt)")
    parser.add_argument("--work", required=True, help="a scratch folder")
    parser.add_argument("--result", required=True, help="where to write the result JSON")
    parser.add_argument("--device", action="append", default=None, help="device for our logits (repeatable)")
    parser.add_argument("--jobs", type=int, default=4, help="lmtrain commands run at once")
    args = parser.parse_args()
    args.device = args.device or ["cpu"]
    try:
        outcome = run(args)
    except Exception as e:  # a bug here: still one result, with the traceback in the log
        traceback.print_exc(file=sys.stdout)
        outcome = result("failed", f"hf_interop.py error: {type(e).__name__}: {e}")
    Path(args.result).write_text(json.dumps(outcome, indent=2) + "\n", encoding="utf-8")
    print(f"hf_interop: {outcome['status']}" + (f": {outcome['reason']}" if outcome.get("reason") else ""))


if __name__ == "__main__":
    main()
