package ai.lmtrain.data.shards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.io.JsonFields;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The identity of a shard folder that checkpoints record: what counts as the same data, and what a refusal says. */
class DatasetIdentityTest {
  private static final String SHA_A = "a".repeat(64);
  private static final String SHA_B = "b".repeat(64);
  private static final List<DatasetInfo.Shard> SHARDS = List.of(new DatasetInfo.Shard("train_000001.bin", "train", 1000),
      new DatasetInfo.Shard("train_000002.bin", "train", 1000000), new DatasetInfo.Shard("val_000000.bin", "validation",
      50));

  private static DatasetIdentity prepared(String folder, String sha, List<DatasetInfo.Shard> shards) {
    return new DatasetIdentity(folder, sha, shards);
  }

  private static List<DatasetInfo.Shard> with(int index, DatasetInfo.Shard shard) {
    List<DatasetInfo.Shard> list = new java.util.ArrayList<>(SHARDS);
    list.set(index, shard);
    return list;
  }

  @Test
  void theSameDatasetJsonIsTheSameDataWhereverTheFolderIs() {
    DatasetIdentity saved = prepared("/data/a", SHA_A, SHARDS);
    assertNull(prepared("/moved/a", SHA_A, SHARDS).differenceFrom(saved));
  }

  @Test
  void anotherDatasetJsonSaysWhichShardChanged() {
    DatasetIdentity saved = prepared("/data/a", SHA_A, SHARDS);
    String advice = "; resume with the --data folder the run trained on (/data/a)";
    assertEquals("/data/b/dataset.json: the shards differ from the checkpoint's (train_000002.bin had 1000000 tokens,"
        + " now 999999)" + advice, prepared("/data/b", SHA_B, with(1, new DatasetInfo.Shard("train_000002.bin", "train",
        999999))).differenceFrom(saved));
    assertEquals("/data/b/dataset.json: the shards differ from the checkpoint's (val_000000.bin is gone)" + advice,
        prepared("/data/b", SHA_B, SHARDS.subList(0, 2)).differenceFrom(saved));
    List<DatasetInfo.Shard> more = new java.util.ArrayList<>(SHARDS);
    more.add(2, new DatasetInfo.Shard("train_000003.bin", "train", 7));
    assertEquals("/data/b/dataset.json: the shards differ from the checkpoint's (train_000003.bin is new)" + advice,
        prepared("/data/b", SHA_B, more).differenceFrom(saved));
    assertEquals("/data/b/dataset.json: the shards differ from the checkpoint's (val_000000.bin was a validation"
        + " shard, now a train one)" + advice, prepared("/data/b", SHA_B, with(2, new DatasetInfo.Shard("val_000000.bin",
        "train", 50))).differenceFrom(saved));
    assertEquals("/data/b/dataset.json: differs from the dataset.json the checkpoint trained on (SHA-256"
        + " bbbbbbbbbbbb..., then aaaaaaaaaaaa...) though its shards have the same names and token counts (prepared"
        + " again from other inputs or options?)" + advice, prepared("/data/b", SHA_B, SHARDS).differenceFrom(saved));
  }

  @Test
  void withoutDatasetJsonTheShardsDecide() {
    DatasetIdentity saved = prepared("/llmc/a", null, SHARDS);
    assertNull(prepared("/llmc/copy", null, SHARDS).differenceFrom(saved));
    assertNull(prepared("/llmc/prepared", SHA_A, SHARDS).differenceFrom(saved), "the same shards, now with dataset.json");
    assertEquals("/llmc/a: the shards differ from the checkpoint's (train_000001.bin had 1000 tokens, now 1001); resume"
        + " with the --data folder the run trained on (/llmc/a)", prepared("/llmc/a", null, with(0,
        new DatasetInfo.Shard("train_000001.bin", "train", 1001))).differenceFrom(saved));
  }

  @Test
  void jsonRoundTripAndStrictReading() throws FileFormatException {
    for (DatasetIdentity id : List.of(prepared("/data/a", SHA_A, SHARDS), prepared("/llmc", null, SHARDS))) {
      assertEquals(id, DatasetIdentity.read(JsonFields.of(Path.of("trainer_state.json"), id.toJson())));
    }
    ObjectNode bad = prepared("/data/a", SHA_A, SHARDS).toJson();
    ((ObjectNode) ((ArrayNode) bad.get("shards")).get(1)).put("tokens", "many");
    FileFormatException e = assertThrows(FileFormatException.class,
        () -> DatasetIdentity.read(JsonFields.of(Path.of("trainer_state.json"), bad)));
    assertEquals("trainer_state.json: field 'shards[1].tokens' must be an integer in [0, 9223372036854775807], got"
        + " the string \"many\"", e.getMessage());
  }
}
