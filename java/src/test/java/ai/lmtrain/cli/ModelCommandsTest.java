package ai.lmtrain.cli;

import static ai.lmtrain.cli.CliRunner.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.cli.CliRunner.Outcome;
import ai.lmtrain.data.TextSource;
import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.BertForMaskedLM;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.TokenizerTrainer;
import ai.lmtrain.tokenizers.Tokenizers;
import ai.lmtrain.tokenizers.TrainerOptions;
import ai.lmtrain.train.Checkpoints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model commands from the command line: {@code train} with a JSON config, then {@code generate},
 * {@code next-token} and {@code eval} with {@code --json} (one JSON object on stdout), {@code
 * --resume}, and the one-line errors of bad input.
 */
class ModelCommandsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void trainThenInspectTheModel(@TempDir Path tmp) throws Exception {
    Path corpus = tmp.resolve("corpus.txt");
    Files.write(corpus, ai.lmtrain.data.TextSource.bundledLines("toy_corpus.txt"));
    Path config = tmp.resolve("config.json");
    Files.writeString(config, "{\"n_layer\": 1, \"n_embd\": 32, \"n_head\": 2, \"n_positions\": 32,"
        + " \"num_train_epochs\": 2, \"per_device_train_batch_size\": 4, \"learning_rate\": 3e-3,"
        + " \"logging_steps\": 5, \"warmup_steps\": 2}");
    Path out = tmp.resolve("run");
    Outcome trained = run("train", "--model", "gpt2", "--corpus", corpus.toString(), "--train-tokenizer",
        "--vocab-size", "300", "--config", config.toString(), "--output", out.toString(), "--mode", "lines",
        "--context-length", "24");
    assertEquals(0, trained.exit(), trained.err());
    assertTrue(trained.out().contains("saved to " + out), trained.out());

    Outcome generated = run("generate", "--model", out.toString(), "--prompt", "The lion", "--max-new-tokens", "5",
        "--do-sample", "--seed", "3", "--json");
    assertEquals(0, generated.exit(), generated.err());
    JsonNode g = JSON.readTree(generated.out());
    assertTrue(g.get("generated_text").asText().startsWith("The lion"), generated.out());
    assertEquals(1, generated.out().strip().lines().count(), "one JSON object on stdout");

    JsonNode next = JSON.readTree(run("next-token", "--model", out.toString(), "--text", "The lion is", "--top-k", "3",
        "--json").out());
    assertEquals(3, next.get("next").size());

    Outcome eval = run("eval", "--model", out.toString(), "--corpus", corpus.toString(), "--json");
    assertEquals(0, eval.exit(), eval.err());
    JsonNode e = JSON.readTree(eval.out());
    assertEquals(Math.exp(e.get("loss").asDouble()), e.get("perplexity").asDouble(), 1e-9);

    // --resume takes the tokenizer, the model config and (without --config) the training arguments
    // from the checkpoint.
    Outcome resumed = run("train", "--model", "gpt2", "--corpus", corpus.toString(), "--output", out.toString(),
        "--mode", "lines", "--context-length", "24", "--resume");
    assertEquals(0, resumed.exit(), resumed.err()); // already at its last step: nothing left to train

    Outcome wrongKind = run("fill-mask", "--model", out.toString(), "--text", "a [MASK]");
    assertEquals(1, wrongKind.exit());
    assertEquals("error: " + out + " holds a gpt2 model; fill-mask needs a BERT (masked LM) model",
        wrongKind.err().strip());
  }

  /** A new {@code type} model sized to a WordPiece tokenizer of the toy corpus, saved under {@code dir}. */
  private static Path savedModel(Path dir, String type) throws Exception {
    Path corpus = dir.resolve("corpus.txt");
    Files.write(corpus, TextSource.bundledLines("toy_corpus.txt"));
    Tokenizer tokenizer = TokenizerTrainer.trainWordPiece(List.of(corpus), TrainerOptions.wordPiece(200));
    int v = tokenizer.vocabSize();
    Path folder = dir.resolve(type);
    try (CpuBackend backend = new CpuBackend();
        LanguageModel model = type.equals("bert")
            ? new BertForMaskedLM(new BertConfig(v, 16, 1, 2, 32, "gelu", 0.0, 0.0, 32, 2, 0.02, 1e-12, 0, "absolute",
                true), backend, DType.F32)
            : new Gpt2LMHeadModel(new Gpt2Config(v, 32, 16, 1, 2, null, "gelu_new", 0.0, 0.0, 0.0, 1e-5, 0.02, true,
                false, null, null, true), backend, DType.F32)) {
      model.initialize(7);
      Checkpoints.saveModel(folder, model, tokenizer);
    }
    return folder;
  }

  /** Softmax probability of {@code id} in one row of logits, in double. */
  private static double probability(JsonNode row, int id) {
    double max = Double.NEGATIVE_INFINITY;
    for (JsonNode x : row) {
      max = Math.max(max, x.asDouble());
    }
    double sum = 0;
    for (JsonNode x : row) {
      sum += Math.exp(x.asDouble() - max);
    }
    return Math.exp(row.get(id).asDouble() - max) / sum;
  }

  @Test
  void logitsOfFillMaskAndNextTokenAgreeWithTheirPredictions(@TempDir Path tmp) throws Exception {
    String bert = savedModel(tmp, "bert").toString();
    String text = "The lion is the [MASK] of the savanna.";
    Outcome filled = run("fill-mask", "--model", bert, "--text", text, "--top-k", "2", "--json", "--logits");
    assertEquals(0, filled.exit(), filled.err());
    JsonNode f = JSON.readTree(filled.out());
    Tokenizer tokenizer = Tokenizers.load(Path.of(bert));
    int[] ids = tokenizer.encode(text).ids();
    assertEquals(ids.length, f.get("logits").size(), "one row per token, [CLS] and [SEP] included");
    int mask = -1;
    for (int i = 0; i < ids.length; i++) {
      assertEquals(ids[i], f.get("tokens").get(i).asInt());
      assertEquals(tokenizer.vocabSize(), f.get("logits").get(i).size());
      if (ids[i] == tokenizer.tokenToId("[MASK]").getAsInt()) {
        mask = i;
      }
    }
    JsonNode best = f.get("masks").get(0).get(0);
    assertEquals(best.get("score").asDouble(), probability(f.get("logits").get(mask), best.get("token").asInt()), 1e-6);

    String gpt2 = savedModel(tmp, "gpt2").toString();
    Outcome next = run("next-token", "--model", gpt2, "--text", "The lion is", "--top-k", "1", "--json", "--logits");
    assertEquals(0, next.exit(), next.err());
    JsonNode n = JSON.readTree(next.out());
    JsonNode logits = n.get("logits");
    assertEquals(n.get("tokens").size(), logits.size());
    JsonNode top = n.get("next").get(0);
    JsonNode last = logits.get(logits.size() - 1);
    assertEquals(top.get("probability").asDouble(), probability(last, top.get("token").asInt()), 1e-6);

    Outcome noJson = run("next-token", "--model", gpt2, "--text", "The lion is", "--logits");
    assertEquals(2, noJson.exit());
    assertTrue(noJson.err().startsWith("error: --logits needs --json"), noJson.err());
  }

  /**
   * config.json exactly as transformers 4.46 writes it for {@code GPT2LMHeadModel(GPT2Config(vocab_size=465,
   * n_layer=2, n_embd=32, n_head=2)).save_pretrained(...)}: every other key at GPT2Config's documented
   * default, among them bos_token_id and eos_token_id 50256, outside the 465-token vocabulary.
   */
  static final String TRANSFORMERS_TINY_GPT2 = """
      {
        "activation_function": "gelu_new",
        "architectures": [
          "GPT2LMHeadModel"
        ],
        "attn_pdrop": 0.1,
        "bos_token_id": 50256,
        "embd_pdrop": 0.1,
        "eos_token_id": 50256,
        "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05,
        "model_type": "gpt2",
        "n_embd": 32,
        "n_head": 2,
        "n_inner": null,
        "n_layer": 2,
        "n_positions": 1024,
        "reorder_and_upcast_attn": false,
        "resid_pdrop": 0.1,
        "scale_attn_by_inverse_layer_idx": false,
        "scale_attn_weights": true,
        "summary_activation": null,
        "summary_first_dropout": 0.1,
        "summary_proj_to_labels": true,
        "summary_type": "cls_index",
        "summary_use_proj": true,
        "torch_dtype": "float32",
        "transformers_version": "4.46.3",
        "use_cache": true,
        "vocab_size": 465
      }
      """;

  /**
   * A small GPT-2 saved by transformers with its default bos/eos 50256 loads and runs, with a one-line
   * warning (once per file and process), whatever the tokenizer (a WordPiece without end-of-text, as
   * in the lab's folders, or a BPE whose end-of-text is another id); generation runs to
   * --max-new-tokens, as transformers' generate does when the eos id is one the model cannot produce.
   */
  @Test
  void aTransformersGpt2ConfigWithDefaultIdsOutsideTheVocabularyLoads(@TempDir Path tmp) throws Exception {
    Path corpus = tmp.resolve("corpus.txt");
    Files.write(corpus, TextSource.bundledLines("tinyshakespeare.txt").subList(0, 3000));
    for (Tokenizer tokenizer : List.of(TokenizerTrainer.trainWordPiece(List.of(corpus), TrainerOptions.wordPiece(465)),
        TokenizerTrainer.trainByteLevelBpe(List.of(corpus), TrainerOptions.byteLevelBpe(465)))) {
      assertEquals(465, tokenizer.vocabSize(), "every id the model generates decodes");
      Path folder = tmp.resolve("tiny-gpt2-" + tokenizer.getClass().getSimpleName());
      try (CpuBackend backend = new CpuBackend();
          LanguageModel gpt2 = new Gpt2LMHeadModel(new Gpt2Config(465, 1024, 32, 2, 2, null, "gelu_new", 0.1, 0.1, 0.1,
              1e-5, 0.02, true, false, 50256, 50256, true), backend, DType.F32)) {
        gpt2.initialize(7);
        Checkpoints.saveModel(folder, gpt2, tokenizer);
      }
      Files.writeString(folder.resolve("config.json"), TRANSFORMERS_TINY_GPT2);

      PrintStream stderr = System.err;
      ByteArrayOutputStream logged = new ByteArrayOutputStream();
      Outcome next;
      Outcome generated;
      try {
        System.setErr(new PrintStream(logged, true, StandardCharsets.UTF_8));
        next = run("next-token", "--model", folder.toString(), "--text", "The lion is", "--json");
        generated = run("generate", "--model", folder.toString(), "--prompt", "The lion", "--max-new-tokens", "12",
            "--json");
      } finally {
        System.setErr(stderr);
      }
      assertEquals(0, next.exit(), next.err());
      assertEquals(0, generated.exit(), generated.err());
      assertEquals(12, JSON.readTree(generated.out()).get("new_tokens").asInt(), "no end-of-text id to stop at");
      String warning = "[WARN] " + folder.resolve("config.json") + ": bos_token_id 50256, eos_token_id 50256 outside"
          + " the vocabulary [0, 465), kept as transformers keeps them";
      List<String> warnings = logged.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith(warning))
          .toList();
      assertEquals(1, warnings.size(), "one line, however often the file is read: " + logged);
    }
  }

  @Test
  void badConfigAndFlagsGiveOneLineErrors(@TempDir Path tmp) throws Exception {
    Path corpus = tmp.resolve("corpus.txt");
    Files.writeString(corpus, "a b c\n");
    Path config = tmp.resolve("config.json");
    Files.writeString(config, "{\"lerning_rate\": 1}");
    Outcome typo = run("train", "--model", "gpt2", "--corpus", corpus.toString(), "--train-tokenizer", "--vocab-size",
        "300", "--config", config.toString(), "--output", tmp.resolve("o").toString());
    assertEquals(1, typo.exit());
    assertTrue(typo.err().startsWith("error: unknown key 'lerning_rate' in " + config), typo.err());
    Outcome model = run("train", "--model", "gpt3", "--corpus", corpus.toString(), "--train-tokenizer", "--output",
        tmp.resolve("o").toString());
    assertEquals("error: --model must be bert or gpt2 (got 'gpt3')", model.err().strip());
    assertEquals(2, run("generate", "--prompt", "x").exit(), "missing --model is a usage error");
  }
}
