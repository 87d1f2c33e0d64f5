package ai.lmtrain.parity;

import ai.lmtrain.data.Batch;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.models.ProblemType;
import ai.lmtrain.models.SequenceClassifier;
import ai.lmtrain.models.TinyModels;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.train.Checkpoints;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes the inputs of the PyTorch parity fixtures (run by hand through
 * {@code scripts/parity/make_fixtures.sh}): for the tiny BERT and GPT-2 of {@link TinyModels}
 * with seed {@link #SEED}, and their sequence classifiers ({@link #CLASSIFIERS}), the model folder
 * (weights, config) and {@code inputs.json} (batch, labels, AdamW settings). {@code scripts/parity/make_fixtures.py} then adds
 * {@code reference.safetensors}, which {@link PyTorchParityTest} compares against.
 */
public final class ParityFixtures {
  static final long SEED = 1234;
  static final double ADAMW_LR = 1e-2;
  static final double ADAMW_WEIGHT_DECAY = 0.01;
  static final int ADAMW_STEPS = 5;

  /** The classifier fixtures: folder name -> (body, problem type, number of labels). */
  static final Map<String, Object[]> CLASSIFIERS = Map.of(
      "bert-cls", new Object[] {"bert", ProblemType.SINGLE_LABEL, 3},
      "gpt2-cls", new Object[] {"gpt2", ProblemType.SINGLE_LABEL, 3},
      "bert-multilabel", new Object[] {"bert", ProblemType.MULTI_LABEL, 3},
      "gpt2-regression", new Object[] {"gpt2", ProblemType.REGRESSION, 1});

  private ParityFixtures() {}

  /** The classifier of fixture {@code name}, freshly built. */
  static SequenceClassifier classifier(String name, CpuBackend backend) {
    Object[] spec = CLASSIFIERS.get(name);
    return TinyModels.classifier((String) spec[0], (ProblemType) spec[1], (Integer) spec[2], backend, SEED);
  }

  /** The batch of classifier fixture {@code name}: its targets trimmed to the fixture's label count. */
  static Batch classifierBatch(String name) {
    Object[] spec = CLASSIFIERS.get(name);
    ProblemType problem = (ProblemType) spec[1];
    Batch b = TinyModels.classificationBatch(problem);
    int width = problem == ProblemType.SINGLE_LABEL ? 1 : (Integer) spec[2];
    float[] targets = new float[b.batchSize() * width];
    int full = b.sequenceTargets().length / b.batchSize();
    for (int e = 0; e < b.batchSize(); e++) {
      System.arraycopy(b.sequenceTargets(), e * full, targets, e * width, width);
    }
    return new Batch(b.batchSize(), b.seqLen(), b.inputIds(), b.attentionMask(), b.tokenTypeIds(), b.labels(), targets);
  }

  /** The model the fixture describes, freshly built. */
  static LanguageModel model(String type, CpuBackend backend) {
    return type.equals("bert") ? TinyModels.bert(backend, SEED) : TinyModels.gpt2(backend, SEED);
  }

  /** The batch the fixture uses. */
  static ModelInput input(String type) {
    return type.equals("bert") ? TinyModels.batch() : TinyModels.clmBatch();
  }

  public static void main(String[] args) throws IOException {
    Path root = Path.of(args.length > 0 ? args[0] : "java/src/test/resources/parity");
    ObjectMapper json = new ObjectMapper();
    try (CpuBackend backend = new CpuBackend()) {
      for (String type : new String[] {"bert", "gpt2"}) {
        Path dir = root.resolve(type);
        try (LanguageModel model = model(type, backend)) {
          Checkpoints.saveModel(dir, model, null);
        }
        ModelInput in = input(type);
        ObjectNode o = json.createObjectNode();
        o.put("batch", in.batch()).put("seq_len", in.seqLen());
        o.set("input_ids", json.valueToTree(in.inputIds()));
        o.set("attention_mask", json.valueToTree(in.attentionMask()));
        if (in.tokenTypeIds() != null) {
          o.set("token_type_ids", json.valueToTree(in.tokenTypeIds()));
        }
        o.set("labels", json.valueToTree(in.labels()));
        write(json, dir, o);
      }
      for (String name : new java.util.TreeSet<>(CLASSIFIERS.keySet())) {
        Path dir = root.resolve(name);
        try (SequenceClassifier model = classifier(name, backend)) {
          Checkpoints.saveModel(dir, model, null);
        }
        Batch b = classifierBatch(name);
        ObjectNode o = json.createObjectNode();
        o.put("batch", b.batchSize()).put("seq_len", b.seqLen());
        o.set("input_ids", json.valueToTree(b.inputIds()));
        o.set("attention_mask", json.valueToTree(b.attentionMask()));
        if (name.startsWith("bert")) {
          o.set("token_type_ids", json.valueToTree(b.tokenTypeIds()));
        }
        int width = b.sequenceTargets().length / b.batchSize();
        var labels = o.putArray("labels");
        for (int e = 0; e < b.batchSize(); e++) {
          if (CLASSIFIERS.get(name)[1] == ProblemType.SINGLE_LABEL) {
            labels.add((int) b.sequenceTargets()[e]);
          } else {
            var row = labels.addArray();
            for (int j = 0; j < width; j++) {
              row.add(b.sequenceTargets()[e * width + j]);
            }
          }
        }
        write(json, dir, o);
      }
    }
  }

  private static void write(ObjectMapper json, Path dir, ObjectNode o) throws IOException {
    o.putObject("adamw").put("lr", ADAMW_LR).put("weight_decay", ADAMW_WEIGHT_DECAY).put("steps", ADAMW_STEPS);
    Files.writeString(dir.resolve("inputs.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(o));
    System.out.println("wrote " + dir);
  }
}
