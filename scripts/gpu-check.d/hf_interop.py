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
     scalars equal metrics.jsonl's training losses;
  5. issue 15's layouts (untied heads, pre-LN BERT, BertForPreTraining), both ways:
     ours -> transformers: a few `lmtrain train` steps on the CPU (tiny sizes, the lab's tokenizers and
     corpus) give a GPT-2 with an untied lm_head and PyTorch-default initialisation, a BERT likewise,
     roberta-prelayernorm tied and untied, BERT with --objective mlm+nsp, and with mlm+sop and an untied
     head; transformers' Auto classes load each as the expected class (GPT2LMHeadModel, BertForMaskedLM,
     RobertaPreLayerNormForMaskedLM, BertForPreTraining) with no missing, unexpected or mismatched keys,
     every parameter equal to model.safetensors (the pooler and cls.seq_relationship included: lmtrain
     has no command that prints the sentence-pair logits), an untied output weight not the input
     embeddings, and logits (prediction_logits) within 1e-4 of ours; a pre-LN run with mlm+nsp loads as
     RobertaPreLayerNormForMaskedLM (transformers has no pre-training class for it) with exactly the
     pooler and cls.seq_relationship unused;
     transformers -> ours: tiny models of those kinds created by transformers (random, every parameter
     perturbed) and written with save_pretrained give lmtrain logits within 1e-4 of transformers'.
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
from typing import NamedTuple

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


class Variant(NamedTuple):
    """One of issue 15's model layouts."""
    slug: str          # the work folder's name
    label: str         # in check names
    model_type: str    # config.json model_type (lmtrain train --model)
    objective: str     # lmtrain train --objective, or None (the plain language-model loss)
    keys: dict         # model config keys: in lmtrain's --config, or transformers' config
    architecture: str  # the transformers class that holds it
    unused: tuple = ()  # key prefixes transformers' class has no parameter for (documented, not a failure)


# transformers' Auto class per architecture: loading through it also checks that the folder's
# model_type and architectures pick the right class
AUTO_CLASSES = {"GPT2LMHeadModel": "AutoModelForCausalLM", "BertForMaskedLM": "AutoModelForMaskedLM",
                "RobertaPreLayerNormForMaskedLM": "AutoModelForMaskedLM",
                "BertForPreTraining": "AutoModelForPreTraining"}
UNTIED = {"tie_word_embeddings": False}
PYTORCH_INIT = {"tie_word_embeddings": False, "initializer": "pytorch"}
SENTENCE_HEAD = ("roberta_prelayernorm.pooler.", "cls.seq_relationship.")
# trained here by `lmtrain train` on the CPU (the lab's tokenizers, its corpus), then loaded by transformers
OURS = [Variant("gpt2-untied", "gpt2 (untied lm_head, pytorch init)", "gpt2", None, PYTORCH_INIT, "GPT2LMHeadModel"),
        Variant("bert-untied", "bert (untied decoder, pytorch init)", "bert", None, PYTORCH_INIT, "BertForMaskedLM"),
        Variant("preln", "roberta-prelayernorm", "roberta-prelayernorm", None, {}, "RobertaPreLayerNormForMaskedLM"),
        Variant("preln-untied", "roberta-prelayernorm (untied decoder)", "roberta-prelayernorm", None, UNTIED,
                "RobertaPreLayerNormForMaskedLM"),
        Variant("bert-nsp", "bert mlm+nsp", "bert", "mlm+nsp", {}, "BertForPreTraining"),
        Variant("bert-sop-untied", "bert mlm+sop (untied decoder)", "bert", "mlm+sop", UNTIED, "BertForPreTraining"),
        Variant("preln-nsp", "roberta-prelayernorm mlm+nsp", "roberta-prelayernorm", "mlm+nsp", {},
                "RobertaPreLayerNormForMaskedLM", SENTENCE_HEAD)]
# created by transformers (save_pretrained), then loaded by lmtrain; "bert" and "gpt2" are the plain ones
TINY = [Variant("bert", "bert", "bert", None, {}, "BertForMaskedLM"),
        Variant("gpt2", "gpt2", "gpt2", None, {}, "GPT2LMHeadModel"),
        Variant("gpt2-untied", "gpt2 (untied lm_head)", "gpt2", None, UNTIED, "GPT2LMHeadModel"),
        Variant("bert-untied", "bert (untied decoder)", "bert", None, UNTIED, "BertForMaskedLM"),
        Variant("preln", "roberta-prelayernorm", "roberta-prelayernorm", None, {}, "RobertaPreLayerNormForMaskedLM"),
        Variant("preln-untied", "roberta-prelayernorm (untied decoder)", "roberta-prelayernorm", None, UNTIED,
                "RobertaPreLayerNormForMaskedLM"),
        Variant("bert-pretraining", "BertForPreTraining", "bert", None, {}, "BertForPreTraining"),
        Variant("bert-pretraining-untied", "BertForPreTraining (untied decoder)", "bert", None, UNTIED,
                "BertForPreTraining")]
# lmtrain train settings for OURS: a few steps, so that every head's bias has moved from its initial 0
SEED_TRAINING = {"max_steps": 3, "learning_rate": 1e-3, "per_device_train_batch_size": 8, "warmup_steps": 0,
                 "logging_steps": 1, "eval_strategy": "no", "save_strategy": "no", "report_to": "none"}
TOY_DOCUMENT_SENTENCES = 10  # the toy corpus's three topics, ten sentences each: the sentence-pair documents
NO_SENTENCE_LOGITS = ("lmtrain has no command that prints the seq_relationship logits (fill-mask loads the masked-LM "
                      "part)")


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
        """Our (tokens, logits) for one text: next-token for GPT-2, fill-mask for the BERT kinds, both --logits."""
        command = "next-token" if kind == "gpt2" else "fill-mask"
        out = json.loads(self.lmtrain(command, "--model", str(folder), "--text", text, "--device", device, "--json",
                                      "--logits"))
        return out["tokens"], out["logits"]

    def check(self, name, passed, detail, max_abs_diff=None, required=True):
        self.checks.append({"name": name, "passed": bool(passed), "required": required, "max_abs_diff": max_abs_diff,
                            "detail": detail})
        print(f"{'ok  ' if passed else 'FAIL'} {name}: {detail}", flush=True)

    def compare_logits(self, torch, name, model, kind, folder, texts, device, note=""):
        """One check: the largest |ours - theirs| over the texts' logits, ours on `device`; `note` ends its detail."""
        futures = [self.pool.submit(self.ours_logits, kind, folder, t, device) for t in texts]
        worst, tokens = 0.0, 0
        try:
            for future in futures:
                ids, ours = future.result()
                with torch.no_grad():
                    theirs = output_logits(model(input_ids=torch.tensor([ids])))[0].float()
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
                                             f"({tokens} tokens), tolerance {TOLERANCE:g}{note}", worst)

    def lab_models(self, torch, transformers):
        for kind in ("bert", "gpt2"):
            folder = self.lab / kind
            try:
                model, info = load_pretrained(transformers, "BertForMaskedLM" if kind == "bert" else "GPT2LMHeadModel",
                                              folder)
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
        for variant in TINY:
            kind = lab_kind(variant)
            folder = self.work / f"transformers-{variant.slug}"
            shutil.rmtree(folder, ignore_errors=True)
            try:
                torch.manual_seed(0)
                lab_config = json.loads((self.lab / kind / "config.json").read_text(encoding="utf-8"))
                if kind == "gpt2":  # the lab GPT-2's bos/eos ids, which its tokenizer (copied below) agrees with
                    sizes = {**TINY_GPT2, **{key: lab_config.get(key) for key in ("bos_token_id", "eos_token_id")}}
                else:  # the tokenizer's [PAD], from which roberta-prelayernorm's position ids count
                    sizes = {**TINY_BERT, "pad_token_id": lab_config.get("pad_token_id")}
                config = transformers.AutoConfig.for_model(variant.model_type, vocab_size=vocab, **sizes,
                                                           **variant.keys)
                model = getattr(transformers, variant.architecture)(config)
                with torch.no_grad():
                    for p in model.parameters():  # tied weights are one Parameter: perturbed once
                        p.add_(0.05 * torch.randn_like(p))
                model.eval()
                model.save_pretrained(folder)
            except Exception as e:
                self.check(f"transformers saves a tiny {variant.label}", False, f"{type(e).__name__}: {e}")
                continue
            for name in ("tokenizer.json", "vocab.txt"):  # lmtrain needs a tokenizer beside the weights
                if (self.lab / kind / name).is_file():
                    shutil.copy(self.lab / kind / name, folder / name)
            texts = NEXT_TOKEN_TEXTS if kind == "gpt2" else FILL_MASK_TEXTS
            note = f" (prediction_logits; {NO_SENTENCE_LOGITS})" if variant.architecture == "BertForPreTraining" else ""
            self.compare_logits(torch, f"tiny {variant.label} saved by transformers: lmtrain logits = transformers' on "
                                       f"cpu", model, variant.model_type, folder, texts, "cpu", note)
            if variant.slug == "gpt2":
                self.default_gpt2_ids(transformers, folder, vocab)

    def seed_fidelity(self, torch, transformers):
        """Issue 15's layouts from lmtrain: trained here on the CPU, loaded by transformers."""
        sentences = [line for line in (self.lab / "toy_corpus.txt").read_text(encoding="utf-8").splitlines()
                     if line.strip()]
        sentences = list(dict.fromkeys(sentences))  # the lab repeats the toy corpus; once is enough here
        corpus = self.work / "seed-sentences.txt"
        corpus.write_text("\n".join(sentences) + "\n", encoding="utf-8")
        documents = self.work / "seed-documents.txt"  # one sentence a line, a blank line between documents
        documents.write_text("\n\n".join("\n".join(sentences[i:i + TOY_DOCUMENT_SENTENCES])
                                         for i in range(0, len(sentences), TOY_DOCUMENT_SENTENCES)) + "\n",
                             encoding="utf-8")
        runs = [(v, self.pool.submit(self.train, v, documents if v.objective else corpus)) for v in OURS]
        for variant, run in runs:
            try:
                folder = run.result()
            except LmtrainError as e:
                self.check(f"lmtrain trains our {variant.label}", False, str(e))
                continue
            self.compare_ours(torch, transformers, variant, folder)

    def train(self, variant, corpus):
        """`lmtrain train` of a tiny model of `variant` on `corpus` (also its validation set); returns its folder."""
        kind = lab_kind(variant)
        folder = self.work / f"ours-{variant.slug}"
        shutil.rmtree(folder, ignore_errors=True)
        config = self.work / f"ours-{variant.slug}.json"
        config.write_text(json.dumps({**SEED_TRAINING, **(TINY_GPT2 if kind == "gpt2" else TINY_BERT), **variant.keys}),
                          encoding="utf-8")
        objective = ["--objective", variant.objective] if variant.objective else []
        self.lmtrain("train", "--model", variant.model_type, *objective, "--corpus", str(corpus), "--validation",
                     str(corpus), "--tokenizer", str(self.lab / kind), "--config", str(config), "--output", str(folder))
        return folder

    def compare_ours(self, torch, transformers, variant, folder):
        """transformers loads one of our folders: the class, the keys, every parameter, an untied head, the logits."""
        label = f"our {variant.label}"
        try:
            model, info = load_pretrained(transformers, variant.architecture, folder)
        except Exception as e:
            self.check(f"transformers loads {label}", False, f"{type(e).__name__}: {e}")
            return
        from safetensors.torch import load_file
        saved = load_file(str(folder / "model.safetensors"))
        unused = sorted(k for k in saved if variant.unused and k.startswith(variant.unused))
        problems = {k: sorted(str(x) for x in v) for k, v in (info or {}).items() if v}
        if problems.get("unexpected_keys", []) == unused:  # the documented ones, and they must be reported
            problems.pop("unexpected_keys", None)
        elif "unexpected_keys" not in problems:
            problems["unexpected_keys"] = f"none reported, expected {unused}"
        if type(model).__name__ != variant.architecture:
            problems["class"] = type(model).__name__
        if info is None:
            problems["loading info"] = f"none reported by transformers {transformers.__version__}"
        detail = (f"{type(model).__name__}, no missing, unexpected or mismatched keys" if not unused else
                  f"{type(model).__name__}, no missing or mismatched keys; unexpected exactly the {len(unused)} it has "
                  f"no parameter for, as documented: {', '.join(unused)}")
        self.check(f"transformers loads {label} as {variant.architecture}" + (" unchanged" if not unused else ""),
                   not problems, detail if not problems else json.dumps(problems))
        self.compare_parameters(label, model, saved, unused)
        if variant.keys.get("tie_word_embeddings") is False:
            self.check_untied(torch, label, model, saved)
        texts = NEXT_TOKEN_TEXTS if variant.model_type == "gpt2" else FILL_MASK_TEXTS
        note = " (prediction_logits)" if variant.architecture == "BertForPreTraining" else ""
        self.compare_logits(torch, f"{label}: transformers logits = ours on cpu", model, variant.model_type, folder,
                            texts, "cpu", note)

    def compare_parameters(self, label, model, saved, unused):
        """Every tensor of model.safetensors (but the unused ones) equals the parameter transformers loaded it into."""
        state = model.state_dict()
        absent = sorted(k for k in saved if k not in state and k not in unused)
        differing = sorted(k for k in saved if k in state and not state[k].float().equal(saved[k].float()))
        compared = sum(1 for k in saved if k in state)
        sentence_head = [k for k in saved if k.startswith(SENTENCE_HEAD) and k in state]
        detail = f"{compared} tensors equal"
        if sentence_head:
            detail += (f", the sentence-pair head included ({', '.join(sorted(sentence_head))}); "
                       f"{NO_SENTENCE_LOGITS}, so that head is compared by its weights")
        if absent or differing:
            detail = f"not in the model: {absent}; values differ: {differing}"
        self.check(f"{label}: transformers' parameters = model.safetensors", not absent and not differing, detail)

    def check_untied(self, torch, label, model, saved):
        """The output projection transformers loaded is the file's own weight, not the input embeddings."""
        output = model.get_output_embeddings().weight.detach()
        embeddings = model.get_input_embeddings().weight.detach()
        names = {p.data_ptr(): n for n, p in model.named_parameters()}
        key = names.get(output.data_ptr())
        separate = output.data_ptr() != embeddings.data_ptr() and not torch.equal(output, embeddings)
        from_file = key in saved and torch.equal(output.float(), saved[key].float())
        self.check(f"{label}: the output weight is untied after loading", separate and from_file,
                   f"{key} {tuple(output.shape)} is the file's and not {names.get(embeddings.data_ptr())} "
                   f"(max |difference| {(output - embeddings).abs().max().item():.3g})" if separate and from_file else
                   f"{key}: a tensor of its own {separate}, equal to the file's {from_file}")

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


def load_pretrained(transformers, architecture, folder):
    """transformers' model for a folder through the Auto class of `architecture`, in fp32 eval mode, with its
    loading info (None where this transformers version no longer reports it)."""
    auto = getattr(transformers, AUTO_CLASSES[architecture])
    try:
        model, info = auto.from_pretrained(str(folder), output_loading_info=True)
    except TypeError:
        model, info = auto.from_pretrained(str(folder)), None
    return model.float().eval(), info


def lab_kind(variant):
    """The lab model whose tokenizer a variant uses: gpt2 for GPT-2, bert (WordPiece) for the BERT kinds."""
    return "gpt2" if variant.model_type == "gpt2" else "bert"


def output_logits(output):
    """The language-model logits of a transformers output (BertForPreTraining calls them prediction_logits)."""
    logits = getattr(output, "logits", None)
    return logits if logits is not None else output.prediction_logits


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
        interop.seed_fidelity(torch, transformers)
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
