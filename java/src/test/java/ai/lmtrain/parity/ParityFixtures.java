package ai.lmtrain.parity;

import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.models.TinyModels;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.train.Checkpoints;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the inputs of the PyTorch parity fixtures (run by hand through
 * {@code scripts/parity/make_fixtures.sh}): for the tiny BERT and GPT-2 of {@link TinyModels}
 * with seed {@link #SEED}, the model folder (weights, config) and {@code inputs.json} (batch,
 * labels, AdamW settings). {@code scripts/parity/make_fixtures.py} then adds
 * {@code reference.safetensors}, which {@link PyTorchParityTest} compares against.
 */
public final class ParityFixtures {
  static final long SEED = 1234;
  static final double ADAMW_LR = 1e-2;
  static final double ADAMW_WEIGHT_DECAY = 0.01;
  static final int ADAMW_STEPS = 5;

  private ParityFixtures() {}

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
        o.putObject("adamw").put("lr", ADAMW_LR).put("weight_decay", ADAMW_WEIGHT_DECAY).put("steps", ADAMW_STEPS);
        Files.writeString(dir.resolve("inputs.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(o));
        System.out.println("wrote " + dir);
      }
    }
  }
}
