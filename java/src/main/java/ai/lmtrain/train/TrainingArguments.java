package ai.lmtrain.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * Training hyper-parameters. JSON keys are Hugging Face {@code TrainingArguments} names where one
 * exists; defaults are HF's unless noted.
 *
 * @param numTrainEpochs num_train_epochs (3)
 * @param maxSteps max_steps: total optimizer steps, overriding epochs when > 0 (-1)
 * @param trainBatchSize per_device_train_batch_size (8)
 * @param evalBatchSize per_device_eval_batch_size (8)
 * @param learningRate learning_rate (5e-5)
 * @param weightDecay weight_decay (0)
 * @param adamBeta1 adam_beta1 (0.9)
 * @param adamBeta2 adam_beta2 (0.999)
 * @param adamEpsilon adam_epsilon (1e-8)
 * @param maxGradNorm max_grad_norm (1.0; 0 disables clipping)
 * @param lrSchedulerType lr_scheduler_type ("linear")
 * @param warmupSteps warmup_steps (0)
 * @param warmupRatio warmup_ratio (0; used when warmup_steps is 0)
 * @param gradientAccumulationSteps gradient_accumulation_steps (1)
 * @param evalStrategy eval_strategy: "no", "steps" or "epoch" ("epoch" here, HF's is "no")
 * @param evalSteps eval_steps (defaults to logging_steps)
 * @param loggingSteps logging_steps (50 here; HF's 500 is too coarse for small runs)
 * @param saveStrategy save_strategy: "no", "steps" or "epoch" ("epoch")
 * @param saveSteps save_steps (500)
 * @param seed seed (42)
 * @param precision "fp32", "bf16" or "fp16" (HF's bf16/fp16 booleans are accepted too)
 * @param mlmProbability mlm_probability of the MLM collator (0.15)
 * @param metricForBestModel metric_for_best_model: the evaluation metric that picks the best/
 *     model ("loss"; also "accuracy", "perplexity", and "f1", "precision", "recall" for classifiers,
 *     each optionally prefixed with "eval_")
 * @param greaterIsBetter greater_is_better, or null for Hugging Face's default: false for a metric
 *     ending in "loss", true otherwise
 * @param reportTo report_to: "tensorboard" writes TensorBoard event files, "none" nothing; HF's
 *     default "all" means every integration available, here TensorBoard
 * @param loggingDir logging_dir for the event files, or null for HF's default
 *     OUTPUT/runs/MONTHDAY_HH-MM-SS_HOST
 */
public record TrainingArguments(
    int numTrainEpochs,
    int maxSteps,
    int trainBatchSize,
    int evalBatchSize,
    double learningRate,
    double weightDecay,
    double adamBeta1,
    double adamBeta2,
    double adamEpsilon,
    double maxGradNorm,
    String lrSchedulerType,
    int warmupSteps,
    double warmupRatio,
    int gradientAccumulationSteps,
    String evalStrategy,
    int evalSteps,
    int loggingSteps,
    String saveStrategy,
    int saveSteps,
    long seed,
    Precision precision,
    double mlmProbability,
    String metricForBestModel,
    Boolean greaterIsBetter,
    String reportTo,
    String loggingDir) {

  public TrainingArguments {
    positive("num_train_epochs", numTrainEpochs);
    positive("per_device_train_batch_size", trainBatchSize);
    positive("per_device_eval_batch_size", evalBatchSize);
    positive("gradient_accumulation_steps", gradientAccumulationSteps);
    positive("logging_steps", loggingSteps);
    positive("eval_steps", evalSteps);
    positive("save_steps", saveSteps);
    if (!(learningRate >= 0) || !Double.isFinite(learningRate)) {
      throw new IllegalArgumentException("learning_rate must be a finite number >= 0 (got " + learningRate + ")");
    }
    if (!(weightDecay >= 0)) {
      throw new IllegalArgumentException("weight_decay must be >= 0 (got " + weightDecay + ")");
    }
    if (!(maxGradNorm >= 0)) {
      throw new IllegalArgumentException("max_grad_norm must be >= 0 (got " + maxGradNorm + ")");
    }
    if (warmupSteps < 0 || !(warmupRatio >= 0 && warmupRatio <= 1)) {
      throw new IllegalArgumentException("warmup_steps must be >= 0 and warmup_ratio in [0, 1]");
    }
    if (!(mlmProbability > 0 && mlmProbability < 1)) {
      throw new IllegalArgumentException("mlm_probability must be in (0, 1) (got " + mlmProbability + ")");
    }
    oneOf("eval_strategy", evalStrategy, Set.of("no", "steps", "epoch"));
    oneOf("save_strategy", saveStrategy, Set.of("no", "steps", "epoch"));
    if (!EvalResult.METRIC_NAMES.contains(EvalResult.metricKey(metricForBestModel))) {
      throw new IllegalArgumentException("metric_for_best_model must be one of " + new java.util.TreeSet<>(
          EvalResult.METRIC_NAMES) + ", optionally prefixed with eval_ (got '" + metricForBestModel + "')");
    }
    oneOf("report_to", reportTo, Set.of("tensorboard", "none", "all"));
  }

  /** greater_is_better, or its Hugging Face default for metric_for_best_model. */
  public boolean isGreaterBetter() {
    return greaterIsBetter != null ? greaterIsBetter : !metricForBestModel.endsWith("loss");
  }

  /** Whether report_to asks for TensorBoard event files ("tensorboard", or "all"). */
  public boolean reportsToTensorBoard() {
    return !"none".equals(reportTo);
  }

  /** The defaults (see the component docs). */
  public static TrainingArguments defaults() {
    return new TrainingArguments(3, -1, 8, 8, 5e-5, 0.0, 0.9, 0.999, 1e-8, 1.0, "linear", 0, 0.0, 1, "epoch", 50, 50,
        "epoch", 500, 42, Precision.FP32, 0.15, "loss", null,
        "all", null);
  }

  /** The warmup length for a run of {@code totalSteps}: warmup_steps, else ceil(warmup_ratio * total). */
  public int warmupFor(int totalSteps) {
    return warmupSteps > 0 ? warmupSteps : (int) Math.ceil(warmupRatio * totalSteps);
  }

  /** All JSON keys this record reads. */
  public static Set<String> keys() {
    return SETTERS.keySet();
  }

  /**
   * These arguments with the known keys of {@code json} applied; other keys are left for the
   * caller (model config keys) and listed in {@code unknown}.
   */
  public TrainingArguments with(JsonNode json, java.util.List<String> unknown) {
    java.util.List<String> precisionKeys = new java.util.ArrayList<>();
    for (String key : new String[] {"precision", "bf16", "fp16"}) {
      JsonNode v = json.get(key);
      if (v != null && !(v.isBoolean() && !v.booleanValue())) {
        precisionKeys.add(key);
      }
    }
    if (precisionKeys.size() > 1) {
      throw new IllegalArgumentException("config keys " + precisionKeys + " each choose a precision; give one"
          + " (Hugging Face rejects bf16 and fp16 together)");
    }
    TrainingArguments a = this;
    Iterator<Map.Entry<String, JsonNode>> it = json.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> field = it.next();
      BiFunction<TrainingArguments, JsonNode, TrainingArguments> setter = SETTERS.get(field.getKey());
      if (setter == null) {
        unknown.add(field.getKey());
        continue;
      }
      try {
        a = setter.apply(a, field.getValue());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("config key '" + field.getKey() + "': " + e.getMessage(), e);
      }
    }
    return a;
  }

  /** These arguments as JSON with HF key names (saved in checkpoints). */
  public ObjectNode toJson(com.fasterxml.jackson.databind.ObjectMapper mapper) {
    ObjectNode o = mapper.createObjectNode();
    o.put("num_train_epochs", numTrainEpochs).put("max_steps", maxSteps)
        .put("per_device_train_batch_size", trainBatchSize).put("per_device_eval_batch_size", evalBatchSize)
        .put("learning_rate", learningRate).put("weight_decay", weightDecay).put("adam_beta1", adamBeta1)
        .put("adam_beta2", adamBeta2).put("adam_epsilon", adamEpsilon).put("max_grad_norm", maxGradNorm)
        .put("lr_scheduler_type", lrSchedulerType).put("warmup_steps", warmupSteps).put("warmup_ratio", warmupRatio)
        .put("gradient_accumulation_steps", gradientAccumulationSteps).put("eval_strategy", evalStrategy)
        .put("eval_steps", evalSteps).put("logging_steps", loggingSteps).put("save_strategy", saveStrategy)
        .put("save_steps", saveSteps).put("seed", seed).put("precision", precision.toString())
        .put("mlm_probability", mlmProbability).put("metric_for_best_model", metricForBestModel)
        .put("greater_is_better", isGreaterBetter()).put("report_to", reportTo);
    if (loggingDir != null) {
      o.put("logging_dir", loggingDir);
    }
    return o;
  }

  private static final Map<String, BiFunction<TrainingArguments, JsonNode, TrainingArguments>> SETTERS =
      new LinkedHashMap<>();

  static {
    SETTERS.put("num_train_epochs", (a, v) -> a.copy(Map.of("numTrainEpochs", intOf(v))));
    SETTERS.put("max_steps", (a, v) -> a.copy(Map.of("maxSteps", intOf(v))));
    SETTERS.put("per_device_train_batch_size", (a, v) -> a.copy(Map.of("trainBatchSize", intOf(v))));
    SETTERS.put("per_device_eval_batch_size", (a, v) -> a.copy(Map.of("evalBatchSize", intOf(v))));
    SETTERS.put("learning_rate", (a, v) -> a.copy(Map.of("learningRate", doubleOf(v))));
    SETTERS.put("weight_decay", (a, v) -> a.copy(Map.of("weightDecay", doubleOf(v))));
    SETTERS.put("adam_beta1", (a, v) -> a.copy(Map.of("adamBeta1", doubleOf(v))));
    SETTERS.put("adam_beta2", (a, v) -> a.copy(Map.of("adamBeta2", doubleOf(v))));
    SETTERS.put("adam_epsilon", (a, v) -> a.copy(Map.of("adamEpsilon", doubleOf(v))));
    SETTERS.put("max_grad_norm", (a, v) -> a.copy(Map.of("maxGradNorm", doubleOf(v))));
    SETTERS.put("lr_scheduler_type", (a, v) -> a.copy(Map.of("lrSchedulerType", textOf(v))));
    SETTERS.put("warmup_steps", (a, v) -> a.copy(Map.of("warmupSteps", intOf(v))));
    SETTERS.put("warmup_ratio", (a, v) -> a.copy(Map.of("warmupRatio", doubleOf(v))));
    SETTERS.put("gradient_accumulation_steps", (a, v) -> a.copy(Map.of("gradientAccumulationSteps", intOf(v))));
    SETTERS.put("eval_strategy", (a, v) -> a.copy(Map.of("evalStrategy", textOf(v))));
    SETTERS.put("evaluation_strategy", (a, v) -> a.copy(Map.of("evalStrategy", textOf(v))));
    SETTERS.put("eval_steps", (a, v) -> a.copy(Map.of("evalSteps", intOf(v))));
    SETTERS.put("logging_steps", (a, v) -> a.copy(Map.of("loggingSteps", intOf(v))));
    SETTERS.put("save_strategy", (a, v) -> a.copy(Map.of("saveStrategy", textOf(v))));
    SETTERS.put("save_steps", (a, v) -> a.copy(Map.of("saveSteps", intOf(v))));
    SETTERS.put("seed", (a, v) -> a.copy(Map.of("seed", (long) intOf(v))));
    SETTERS.put("precision", (a, v) -> a.copy(Map.of("precision", Precision.parse(textOf(v)))));
    SETTERS.put("bf16", (a, v) -> boolOf(v) ? a.copy(Map.of("precision", Precision.BF16)) : a);
    SETTERS.put("fp16", (a, v) -> boolOf(v) ? a.copy(Map.of("precision", Precision.FP16)) : a);
    SETTERS.put("mlm_probability", (a, v) -> a.copy(Map.of("mlmProbability", doubleOf(v))));
    SETTERS.put("metric_for_best_model", (a, v) -> a.copy(Map.of("metricForBestModel", textOf(v))));
    SETTERS.put("greater_is_better", (a, v) -> a.copy(Map.of("greaterIsBetter", boolOf(v))));
    SETTERS.put("report_to", (a, v) -> a.copy(Map.of("reportTo", reportToOf(v))));
    SETTERS.put("logging_dir", (a, v) -> a.copy(Map.of("loggingDir", textOf(v))));
  }

  /** A copy with the named components replaced (component names as in this record). */
  public TrainingArguments copy(Map<String, Object> changes) {
    java.lang.reflect.RecordComponent[] components = TrainingArguments.class.getRecordComponents();
    Object[] values = new Object[components.length];
    Class<?>[] types = new Class<?>[components.length];
    try {
      for (int i = 0; i < components.length; i++) {
        types[i] = components[i].getType();
        values[i] = changes.containsKey(components[i].getName())
            ? changes.get(components[i].getName())
            : components[i].getAccessor().invoke(this);
      }
      return TrainingArguments.class.getDeclaredConstructor(types).newInstance(values);
    } catch (java.lang.reflect.InvocationTargetException e) {
      if (e.getCause() instanceof IllegalArgumentException iae) {
        throw iae;
      }
      throw new IllegalStateException(e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int intOf(JsonNode v) {
    if (!v.canConvertToInt() || (v.isFloatingPointNumber() && v.asDouble() != Math.rint(v.asDouble()))) {
      throw new IllegalArgumentException("expected an integer, got " + v);
    }
    return v.asInt();
  }

  private static double doubleOf(JsonNode v) {
    if (!v.isNumber()) {
      throw new IllegalArgumentException("expected a number, got " + v);
    }
    return v.asDouble();
  }

  private static String textOf(JsonNode v) {
    if (!v.isTextual()) {
      throw new IllegalArgumentException("expected a string, got " + v);
    }
    return v.asText();
  }

  /** report_to: a string, or a list as Hugging Face accepts (at most one of tensorboard / all / none here). */
  private static String reportToOf(JsonNode v) {
    if (v.isTextual()) {
      return v.asText();
    }
    if (v.isArray() && v.size() <= 1) {
      return v.isEmpty() ? "none" : textOf(v.get(0));
    }
    throw new IllegalArgumentException("expected \"tensorboard\", \"none\", \"all\" or a list of one of them, got "
        + v);
  }

  private static boolean boolOf(JsonNode v) {
    if (!v.isBoolean()) {
      throw new IllegalArgumentException("expected true or false, got " + v);
    }
    return v.asBoolean();
  }

  private static void positive(String name, int v) {
    if (v <= 0) {
      throw new IllegalArgumentException(name + " must be > 0 (got " + v + ")");
    }
  }

  private static void oneOf(String name, String v, Set<String> allowed) {
    if (!allowed.contains(v)) {
      throw new IllegalArgumentException(name + " must be one of " + allowed + " (got '" + v + "')");
    }
  }
}
