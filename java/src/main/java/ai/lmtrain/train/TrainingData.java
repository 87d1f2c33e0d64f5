package ai.lmtrain.train;

import ai.lmtrain.data.shards.DatasetIdentity;
import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.io.JsonFields;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;

/**
 * What a pre-training run trains on, as its checkpoint records it ({@code "training_data"} in
 * trainer_state.json) so that {@code --resume} refuses other data: text files ({@code --corpus}), or
 * token shards ({@code --data}) with their {@link DatasetIdentity}.
 *
 * @param shards the shards' identity, or null for text files
 */
public record TrainingData(DatasetIdentity shards) {
  /** Text files (--corpus). */
  public static final TrainingData TEXT = new TrainingData(null);

  /** The key in trainer_state.json. */
  static final String KEY = "training_data";

  private static final Set<String> KEYS = Set.of("source", "shards");

  /** Token shards. */
  public static TrainingData of(DatasetIdentity shards) {
    return new TrainingData(Objects.requireNonNull(shards));
  }

  ObjectNode toJson() {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("source", shards == null ? "corpus" : "shards");
    if (shards != null) {
      o.set("shards", shards.toJson());
    }
    return o;
  }

  /** Reads what {@link #toJson} wrote (the fields of "training_data"). */
  static TrainingData read(JsonFields f) throws FileFormatException {
    f.requireOnly(KEYS);
    return switch (f.text("source")) {
      case "corpus" -> TEXT;
      case "shards" -> of(DatasetIdentity.read(f.object("shards")));
      default -> throw f.problem("source", "must be \"corpus\" or \"shards\", got \"" + f.text("source") + "\"");
    };
  }

  /**
   * Why this run cannot continue the checkpoint in {@code checkpoint} that trained on {@code saved}:
   * one sentence naming the folder and what differs, or null when it can.
   */
  String differenceFrom(TrainingData saved, Path checkpoint) {
    if (shards == null && saved.shards == null) {
      return null;
    }
    if (saved.shards == null) {
      return checkpoint + ": the checkpoint trained on text files (--corpus); resume with --corpus and the files it"
          + " trained on, not --data " + shards.folder();
    }
    if (shards == null) {
      return checkpoint + ": the checkpoint trained on the token shards in " + saved.shards.folder() + "; resume with"
          + " --data " + saved.shards.folder() + ", not --corpus";
    }
    return shards.differenceFrom(saved.shards);
  }
}
