package ai.lmtrain.bench;

import ai.lmtrain.data.ChunkedDataset;
import ai.lmtrain.data.ClmCollator;
import ai.lmtrain.data.Collator;
import ai.lmtrain.data.DataLoader;
import ai.lmtrain.data.MlmCollator;
import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.BertForMaskedLM;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelConfig;
import ai.lmtrain.models.ModelConfigs;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.train.LanguageModelObjective;
import ai.lmtrain.train.LossWeighting;
import ai.lmtrain.train.Precision;
import ai.lmtrain.train.Trainer;
import ai.lmtrain.train.TrainingArguments;
import ai.lmtrain.train.TrainingListener;
import ai.lmtrain.train.TrainState;
import com.fasterxml.jackson.databind.JsonNode;
import ai.lmtrain.train.dist.DataParallel;
import ai.lmtrain.train.dist.ReduceOp;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/**
 * One training-step benchmark: a model config and a batch shape, trained on random tokens by the
 * real {@link Trainer} (forward, fused cross-entropy, backward, global-norm clipping, AdamW). The
 * optimizer settings are those of the lab (lr 5e-4, weight decay 0.01, max_grad_norm 1).
 *
 * @param name the case name
 * @param config the model; its dropout applies as configured
 * @param batch sequences per step
 * @param seqLen tokens per sequence
 */
public record TrainCase(String name, ModelConfig config, int batch, int seqLen) {
  static final double LEARNING_RATE = 5e-4;
  static final double WEIGHT_DECAY = 0.01;
  static final double MAX_GRAD_NORM = 1.0;
  static final long SEED = 42;
  /** Ids below this are left to special tokens (the MLM collator never selects them). */
  private static final int FIRST_PLAIN_ID = 4;
  /** Untimed training before the measured steps, for the JVM's just-in-time compilers. */
  static final double JVM_WARMUP_SECONDS = 3.0;
  static final int MAX_JVM_WARMUP_STEPS = 300;
  private static final int JVM_PROBE_STEPS = 2;
  /** How the suites describe that warm-up in their notes. */
  static final String JVM_WARMUP_NOTE = "ours: before the warm-up steps, at least " + (int) JVM_WARMUP_SECONDS
      + " s of untimed training (at most " + MAX_JVM_WARMUP_STEPS + " steps) for the JVM's just-in-time compilers";

  private static final ObjectMapper JSON = new ObjectMapper();

  public TrainCase {
    if (batch <= 0 || seqLen <= 1 || seqLen > config.maxPositions() || config.vocabSize() <= FIRST_PLAIN_ID) {
      throw new IllegalArgumentException(name + ": need batch > 0, 1 < seq_len <= max positions "
          + config.maxPositions() + " and vocab_size > " + FIRST_PLAIN_ID);
    }
  }

  /** Tokens per optimizer step. */
  public long tokensPerStep() {
    return (long) batch * seqLen;
  }

  /** The model, Hugging Face-initialised. */
  public LanguageModel newModel(Backend backend, Precision precision) {
    LanguageModel model = config instanceof BertConfig bert
        ? new BertForMaskedLM(bert, backend, precision.computeType())
        : new Gpt2LMHeadModel((Gpt2Config) config, backend, precision.computeType());
    model.initialize(SEED);
    return model;
  }

  /**
   * Training FLOPs per token for MFU: 6 N + 6 L C T, N the parameters without the position
   * embeddings (as nanoGPT counts them), L layers, C width, T sequence length (the causal half of
   * the attention score and value products).
   */
  public double flopsPerToken(LanguageModel model) {
    ParameterTable table = model.parameters().table();
    String positions = config instanceof BertConfig ? "bert.embeddings.position_embeddings.weight"
        : "transformer.wpe.weight";
    long n = table.parameterCount() - (table.contains(positions) ? table.get(positions).numel() : 0);
    int layers = config instanceof BertConfig b ? b.numHiddenLayers() : ((Gpt2Config) config).nLayer();
    int width = config instanceof BertConfig b ? b.hiddenSize() : ((Gpt2Config) config).nEmbd();
    return 6.0 * n + 6.0 * layers * width * seqLen;
  }

  /**
   * The case as the peer scripts read it: {case, config (config.json), batch, seq_len,
   * parameters [{name, shape, decay}] (checkpoint shapes), lr, weight_decay, max_grad_norm, warmup,
   * steps, seed}.
   */
  public ObjectNode toJson(int warmup, int steps) {
    ObjectNode o = JSON.createObjectNode().put("case", name);
    try {
      o.set("config", JSON.readTree(config.toJson()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    o.put("batch", batch).put("seq_len", seqLen);
    ParameterTable table = config instanceof BertConfig bert ? BertForMaskedLM.table(bert)
        : Gpt2LMHeadModel.table((Gpt2Config) config);
    ArrayNode params = o.putArray("parameters");
    for (ParameterTable.Entry e : table.entries()) {
      ObjectNode p = params.addObject().put("name", e.name()).put("decay", e.decay());
      ArrayNode shape = p.putArray("shape");
      for (long d : e.shape()) {
        shape.add(d);
      }
    }
    return o.put("lr", LEARNING_RATE).put("weight_decay", WEIGHT_DECAY).put("max_grad_norm", MAX_GRAD_NORM)
        .put("warmup", warmup).put("steps", steps).put("seed", SEED);
  }

  /** The case of {@link #toJson}'s object (its name, config, batch and seq_len). */
  public static TrainCase fromJson(JsonNode o) throws FileFormatException {
    String name = o.get("case").asText();
    ObjectNode keys = (ObjectNode) o.get("config");
    ModelConfig defaults = BertConfig.MODEL_TYPE.equals(keys.path("model_type").asText()) ? BertConfig.bertBase()
        : Gpt2Config.gpt2Small();
    return new TrainCase(name, ModelConfigs.merge(defaults, keys, Path.of("<case " + name + ">")),
        o.get("batch").asInt(), o.get("seq_len").asInt());
  }

  /**
   * Median seconds per optimizer step of {@code model} over {@code steps} steps after
   * {@code warmup} untimed ones, each step ended by a device synchronisation. Before that (unless
   * {@code warmup} is 0), the model trains untimed for at least {@link #JVM_WARMUP_SECONDS} (at
   * most {@link #MAX_JVM_WARMUP_STEPS} steps) so that the JVM's compilers are done with the
   * training loop: a long training run spends its time in compiled code, and compiler threads would
   * otherwise share the cores with the timed steps.
   */
  public double medianStepSeconds(LanguageModel model, Precision precision, int warmup, int steps) {
    return Timing.median(timeSteps(model, precision, warmup, steps, DataParallel.SINGLE, () -> 0).seconds());
  }

  /**
   * What a timed step took.
   *
   * @param seconds wall time of each timed step
   * @param allReduceSeconds the part of it spent in all-reduces (as {@code allReduceNanos} counts them)
   */
  public record StepTimes(double[] seconds, double[] allReduceSeconds) {}

  /**
   * The timed steps of {@link #medianStepSeconds}, trained as one rank of {@code parallel}: the
   * case's batch is the global batch, of which this rank trains its share. Every rank runs the same
   * number of steps (the JVM warm-up is the longest any rank needs). {@code allReduceNanos} reads the
   * time spent in all-reduces so far.
   */
  public StepTimes timeSteps(LanguageModel model, Precision precision, int warmup, int steps, DataParallel parallel,
      LongSupplier allReduceNanos) {
    if (warmup > 0) {
      long probeStart = System.nanoTime();
      train(model, precision, JVM_PROBE_STEPS, new long[JVM_PROBE_STEPS + 1], null, parallel, allReduceNanos);
      double probeSeconds = (System.nanoTime() - probeStart) / 1e9 / JVM_PROBE_STEPS;
      long[] jvmWarmup = {(long) Math.min(MAX_JVM_WARMUP_STEPS, Math.ceil(JVM_WARMUP_SECONDS / probeSeconds))};
      parallel.communicator().allReduce(jvmWarmup, ReduceOp.MAX);
      train(model, precision, (int) jvmWarmup[0], new long[(int) jvmWarmup[0] + 1], null, parallel, allReduceNanos);
    }
    long[] ends = new long[warmup + steps + 1];
    long[] reduced = new long[warmup + steps + 1];
    train(model, precision, warmup + steps, ends, reduced, parallel, allReduceNanos);
    double[] seconds = new double[steps];
    double[] reduceSeconds = new double[steps];
    for (int i = 0; i < steps; i++) {
      seconds[i] = (ends[warmup + i + 1] - ends[warmup + i]) / 1e9;
      reduceSeconds[i] = (reduced[warmup + i + 1] - reduced[warmup + i]) / 1e9;
    }
    return new StepTimes(seconds, reduceSeconds);
  }

  /**
   * Trains {@code total} steps; {@code ends[0]} is the start, {@code ends[s]} the end of step s
   * (synchronised), and {@code reduced[s]} (if not null) the all-reduce clock at that point.
   */
  private void train(LanguageModel model, Precision precision, int total, long[] ends, long[] reduced,
      DataParallel parallel, LongSupplier allReduceNanos) {
    TrainingArguments args = TrainingArguments.defaults().copy(Map.of("maxSteps", total, "trainBatchSize",
        batch / parallel.worldSize(), "learningRate", LEARNING_RATE, "weightDecay", WEIGHT_DECAY, "maxGradNorm",
        MAX_GRAD_NORM, "evalStrategy", "no", "saveStrategy", "no", "loggingSteps", total, "seed", SEED, "precision",
        precision));
    Backend backend = model.parameters().backend();
    TrainingListener clock = new TrainingListener() {
      @Override
      public void onStep(TrainState state, long totalSteps) {
        backend.synchronize();
        ends[(int) state.globalStep()] = System.nanoTime();
        if (reduced != null) {
          reduced[(int) state.globalStep()] = allReduceNanos.getAsLong();
        }
      }
    };
    try (Trainer trainer = new Trainer(new LanguageModelObjective(model, LossWeighting.MEAN), args, loader(total), null,
        clock, parallel)) {
      backend.synchronize();
      ends[0] = System.nanoTime();
      if (reduced != null) {
        reduced[0] = allReduceNanos.getAsLong();
      }
      trainer.train();
    }
  }

  /** Exactly {@code batches} batches of random plain ids (MLM-masked for BERT), in order. */
  private DataLoader loader(int batches) {
    SplittableRandom random = new SplittableRandom(SEED);
    int[] tokens = random.ints(batches * tokensPerStep(), FIRST_PLAIN_ID, config.vocabSize()).toArray();
    Collator collator = config instanceof BertConfig
        ? new MlmCollator(3, 0, config.vocabSize(), new int[] {0, 1, 2, 3}, 0.15, 0.8, 0.1, 0)
        : new ClmCollator(0, 0);
    return new DataLoader(new ChunkedDataset(List.of(tokens), seqLen), collator, batch, false, SEED, true);
  }
}
