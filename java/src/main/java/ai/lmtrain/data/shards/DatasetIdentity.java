package ai.lmtrain.data.shards;

import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.io.JsonFields;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What identifies a folder of token shards, so that a run resumed from a checkpoint can refuse
 * other data: the SHA-256 of its {@code dataset.json} (written last and atomically, it names every
 * shard with its token count, the tokenizer, the inputs and the options, so its hash identifies the
 * whole folder), and every shard's name, split and token count (all there is for a folder of llm.c
 * shards without dataset.json, and what lets a refusal say what changed).
 *
 * @param folder the folder's absolute path (for messages)
 * @param datasetSha256 the SHA-256 (lowercase hex) of dataset.json's bytes, or null without one
 * @param shards the shards, train then validation, in reading order
 */
public record DatasetIdentity(String folder, String datasetSha256, List<DatasetInfo.Shard> shards) {
  private static final Set<String> KEYS = Set.of("folder", "dataset_json_sha256", "shards");
  private static final Set<String> SHARD_KEYS = Set.of("file", "split", "tokens");

  /** Copies the list. */
  public DatasetIdentity {
    shards = List.copyOf(shards);
  }

  /** The JSON object a checkpoint records. */
  public ObjectNode toJson() {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("folder", folder);
    if (datasetSha256 == null) {
      o.putNull("dataset_json_sha256");
    } else {
      o.put("dataset_json_sha256", datasetSha256);
    }
    ArrayNode list = o.putArray("shards");
    for (DatasetInfo.Shard s : shards) {
      list.addObject().put("file", s.file()).put("split", s.split()).put("tokens", s.tokens());
    }
    return o;
  }

  /**
   * Reads what {@link #toJson} wrote.
   *
   * @throws FileFormatException naming the file and the field that is missing or of the wrong type
   */
  public static DatasetIdentity read(JsonFields f) throws FileFormatException {
    f.requireOnly(KEYS);
    String sha = f.node().path("dataset_json_sha256").isNull() ? null : f.text("dataset_json_sha256");
    List<DatasetInfo.Shard> shards = new ArrayList<>();
    for (JsonFields s : f.objects("shards")) {
      s.requireOnly(SHARD_KEYS);
      shards.add(new DatasetInfo.Shard(s.text("file"), s.text("split"), s.integer("tokens", 0, Long.MAX_VALUE)));
    }
    return new DatasetIdentity(f.text("folder"), sha, shards);
  }

  /**
   * Why a run over this folder cannot continue a checkpoint that trained on {@code saved}, in one
   * sentence naming the folder and what differs, or null when it can. With dataset.json on both
   * sides its hash decides; otherwise (llm.c shards) the shards' names, splits and token counts do.
   */
  public String differenceFrom(DatasetIdentity saved) {
    String shardChange = shardChange(saved.shards, shards);
    if (datasetSha256 != null && saved.datasetSha256 != null) {
      if (datasetSha256.equals(saved.datasetSha256)) {
        return null;
      }
      String file = Path.of(folder).resolve(DatasetInfo.FILE_NAME).toString();
      return shardChange != null ? file + ": the shards differ from the checkpoint's (" + shardChange + ")" + advice(saved)
          : file + ": differs from the dataset.json the checkpoint trained on (SHA-256 " + brief(datasetSha256)
              + ", then " + brief(saved.datasetSha256) + ") though its shards have the same names and token counts"
              + " (prepared again from other inputs or options?)" + advice(saved);
    }
    return shardChange == null ? null : folder + ": the shards differ from the checkpoint's (" + shardChange + ")"
        + advice(saved);
  }

  private static String advice(DatasetIdentity saved) {
    return "; resume with the --data folder the run trained on (" + saved.folder + ")";
  }

  private static String brief(String sha) {
    return sha.substring(0, Math.min(12, sha.length())) + "...";
  }

  /** The first difference between two shard lists, or null when they are equal. */
  private static String shardChange(List<DatasetInfo.Shard> then, List<DatasetInfo.Shard> now) {
    Map<String, DatasetInfo.Shard> current = new LinkedHashMap<>();
    now.forEach(s -> current.put(s.file(), s));
    for (DatasetInfo.Shard was : then) {
      DatasetInfo.Shard is = current.remove(was.file());
      if (is == null) {
        return was.file() + " is gone";
      }
      if (is.tokens() != was.tokens()) {
        return was.file() + " had " + was.tokens() + " tokens, now " + is.tokens();
      }
      if (!is.split().equals(was.split())) {
        return was.file() + " was a " + was.split() + " shard, now a " + is.split() + " one";
      }
    }
    if (!current.isEmpty()) {
      return current.keySet().iterator().next() + " is new";
    }
    return then.equals(now) ? null : "the shards are in another order";
  }
}
