package ai.lmtrain.train.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.cli.Main;
import ai.lmtrain.data.TextSource;
import ai.lmtrain.io.SafeTensors;
import ai.lmtrain.io.SafeTensorsFile;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Data-parallel training over MPI equals single-process training with the global batch: 2 ranks
 * (one JVM each, one CPU thread each) with per-rank batch 4 train the lab-sized GPT-2 and BERT (2
 * layers, 128 wide, context 64; BERT with dropout 0.1 and 20% masking, so the shared MLM masks and
 * dropout streams are exercised) for 20 steps on the toy corpus, and are compared with 1 process
 * with batch 8:
 * <ul>
 *   <li>every train and eval loss within 1e-6 relative;</li>
 *   <li>every final weight tensor within 1e-5 relative (L2 norm of the difference over the
 *       tensor's norm), except the attention key biases: their exact gradient is zero (softmax
 *       ignores a shift of all scores), so in both runs they hold only AdamW-amplified rounding
 *       noise (measured up to 5e-6): no run can be wrong there, and they are only required to
 *       stay within 1e-4 absolute of each other, far below what the 5e-4 learning rate moves a
 *       weight per step.</li>
 * </ul>
 * The only difference between the runs is the summation order of the parameter gradients (two
 * per-rank partial sums added by MPI_Allreduce instead of one sum over all rows). Resuming a
 * 2-rank checkpoint with 1 rank, and a 1-rank checkpoint with 2 ranks, continues the same run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DataParallelTrainingTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final double LOSS_REL = 1e-6;
  private static final double WEIGHT_REL = 1e-5;
  private static final double KEY_BIAS_ABS = 1e-4;
  private static final long JOB_TIMEOUT_SECONDS = 300;

  private Path tmp;
  private Path corpus;
  private final Map<String, Path> tokenizers = new TreeMap<>();
  private final Map<String, Path> references = new TreeMap<>();

  @BeforeAll
  void corpus(@TempDir Path dir) throws IOException {
    tmp = dir;
    corpus = tmp.resolve("toy_corpus.txt");
    Files.write(corpus, TextSource.bundledLines("toy_corpus.txt"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"gpt2", "bert"})
  void twoRanksEqualOneRankWithTheGlobalBatch(String model) throws Exception {
    Path twoRanks = tmp.resolve(model + "-2x4");
    MpiJobs.Outcome job = trainOnRanks(2, model, 4, 20, twoRanks, false);
    assertEquals(0, job.exit(), job.output());
    assertSameRun(reference(model), twoRanks, 1);
  }

  @Test
  void aTwoRankCheckpointResumesOnOneRank() throws Exception {
    Path run = tmp.resolve("gpt2-2then1");
    MpiJobs.Outcome first = trainOnRanks(2, "gpt2", 4, 10, run, false);
    assertEquals(0, first.exit(), first.output());
    assertEquals(2, JSON.readTree(run.resolve("checkpoint/trainer_state.json").toFile()).get("world_size").asInt());
    trainInProcess("gpt2", 8, 20, run, true);
    assertSameRun(reference("gpt2"), run, 11);
  }

  @Test
  void aOneRankCheckpointResumesOnTwoRanks() throws Exception {
    Path run = tmp.resolve("bert-1then2");
    trainInProcess("bert", 8, 10, run, false);
    MpiJobs.Outcome second = trainOnRanks(2, "bert", 4, 20, run, true);
    assertEquals(0, second.exit(), second.output());
    assertSameRun(reference("bert"), run, 11);
  }

  // ---------------------------------------------------------------- runs

  /** The single-process run with the global batch (8), 20 steps, trained once per model. */
  private synchronized Path reference(String model) throws Exception {
    if (!references.containsKey(model)) {
      Path dir = tmp.resolve(model + "-1x8");
      trainInProcess(model, 8, 20, dir, false);
      references.put(model, dir);
    }
    return references.get(model);
  }

  private void trainInProcess(String model, int batch, int steps, Path out, boolean resume) throws Exception {
    StringWriter err = new StringWriter();
    var cl = Main.commandLine();
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(trainArgs(model, batch, steps, out, resume).toArray(String[]::new));
    assertEquals(0, exit, err.toString());
  }

  private MpiJobs.Outcome trainOnRanks(int ranks, String model, int batch, int steps, Path out, boolean resume)
      throws Exception {
    MpiJobs.mpirunOrSkip();
    return MpiJobs.run(MpiJobs.command(ranks, Main.class.getName(),
        trainArgs(model, batch, steps, out, resume).toArray(String[]::new)), Map.of(), JOB_TIMEOUT_SECONDS);
  }

  private List<String> trainArgs(String model, int batch, int steps, Path out, boolean resume) throws Exception {
    Path config = tmp.resolve(model + "-b" + batch + "-s" + steps + ".json");
    String architecture = model.equals("gpt2")
        ? "\"n_layer\": 2, \"n_embd\": 128, \"n_head\": 2, \"n_positions\": 64, \"resid_pdrop\": 0.0,"
            + " \"embd_pdrop\": 0.0, \"attn_pdrop\": 0.0"
        : "\"num_hidden_layers\": 2, \"hidden_size\": 128, \"num_attention_heads\": 2, \"intermediate_size\": 512,"
            + " \"max_position_embeddings\": 64, \"hidden_dropout_prob\": 0.1, \"attention_probs_dropout_prob\": 0.1,"
            + " \"mlm_probability\": 0.2";
    Files.writeString(config, "{" + architecture + ", \"per_device_train_batch_size\": " + batch
        + ", \"per_device_eval_batch_size\": " + batch + ", \"max_steps\": " + steps + ", \"logging_steps\": 1,"
        + " \"learning_rate\": 5e-4, \"warmup_steps\": 10, \"lr_scheduler_type\": \"constant_with_warmup\","
        + " \"weight_decay\": 0.01, \"seed\": 42}");
    List<String> args = new ArrayList<>(List.of("train", "--model", model, "--corpus", corpus.toString(),
        "--config", config.toString(), "--mode", "lines", "--context-length", "64", "--output", out.toString()));
    args.addAll(resume ? List.of("--resume") : List.of("--tokenizer", tokenizer(model).toString()));
    return args;
  }

  private synchronized Path tokenizer(String model) {
    return tokenizers.computeIfAbsent(model, m -> {
      Path dir = tmp.resolve("tokenizer-" + m);
      int exit = Main.commandLine().execute("train-tokenizer", "--type", m.equals("gpt2") ? "bpe" : "wordpiece",
          "--corpus", corpus.toString(), "--vocab-size", "1000", "--output", dir.toString());
      assertEquals(0, exit, "train-tokenizer failed");
      return dir;
    });
  }

  // ---------------------------------------------------------------- comparisons

  /** Train and eval losses from {@code fromStep} on, and the final weights, of two runs. */
  private static void assertSameRun(Path expected, Path actual, int fromStep) throws IOException {
    Map<String, Double> want = losses(expected, fromStep);
    Map<String, Double> got = losses(actual, fromStep);
    assertEquals(want.keySet(), got.keySet(), "logged steps of " + actual);
    double worstLoss = 0;
    double worstWeight = 0;
    double worstKeyBias = 0;
    for (Map.Entry<String, Double> e : want.entrySet()) {
      double rel = Math.abs(got.get(e.getKey()) - e.getValue()) / Math.abs(e.getValue());
      assertTrue(rel <= LOSS_REL, e.getKey() + ": loss " + got.get(e.getKey()) + " vs " + e.getValue() + " (rel "
          + rel + ")");
      worstLoss = Math.max(worstLoss, rel);
    }
    SafeTensorsFile a = SafeTensors.read(expected.resolve("model.safetensors"));
    SafeTensorsFile b = SafeTensors.read(actual.resolve("model.safetensors"));
    assertEquals(a.tensors().keySet(), b.tensors().keySet());
    for (String name : a.tensors().keySet()) {
      float[] x = a.tensor(name).toFloats();
      float[] y = b.tensor(name).toFloats();
      int keyFrom = 0;
      int keyTo = 0; // [keyFrom, keyTo): the key bias, compared absolutely
      if (name.endsWith("attention.self.key.bias")) {
        keyTo = x.length;
      } else if (name.endsWith("attn.c_attn.bias")) {
        keyFrom = x.length / 3;
        keyTo = 2 * x.length / 3;
      }
      double diff = 0;
      double norm = 0;
      for (int i = 0; i < x.length; i++) {
        if (i >= keyFrom && i < keyTo) {
          assertTrue(Math.abs(x[i] - y[i]) <= KEY_BIAS_ABS, name + "[" + i + "] (key bias): " + y[i] + " vs " + x[i]);
          worstKeyBias = Math.max(worstKeyBias, Math.abs(x[i] - y[i]));
          continue;
        }
        diff += (double) (x[i] - y[i]) * (x[i] - y[i]);
        norm += (double) x[i] * x[i];
      }
      double rel = norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
      assertTrue(rel <= WEIGHT_REL, name + ": relative difference " + rel);
      worstWeight = Math.max(worstWeight, rel);
    }
    System.out.printf("%s vs %s: losses within %.1e relative, weights %.1e, key biases %.1e absolute%n",
        actual.getFileName(), expected.getFileName(), worstLoss, worstWeight, worstKeyBias);
  }

  /** "train 12" / "eval 12" -> loss, from metrics.jsonl, steps >= fromStep. */
  private static Map<String, Double> losses(Path run, int fromStep) throws IOException {
    Map<String, Double> out = new TreeMap<>();
    for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
      JsonNode e = JSON.readTree(line);
      if (e.has("loss") && e.get("step").asInt() >= fromStep) {
        out.put(e.get("split").asText() + " " + e.get("step").asInt(), e.get("loss").asDouble());
      }
    }
    assertTrue(out.size() >= 10, "too few losses in " + run + ": " + out);
    return out;
  }
}
