package ai.lmtrain.cli;

import static ai.lmtrain.cli.CliRunner.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.cli.CliRunner.Outcome;
import ai.lmtrain.data.TextSource;
import ai.lmtrain.tokenizers.TestData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code prepare-data}, {@code train --data} and {@code train-tokenizer --input} from the command line
 * (run in-process by {@link CliRunner}).
 */
class DataCommandsTest {
  @Test
  void prepareThenTrainGpt2FromShards(@TempDir Path tmp) throws Exception {
    Path tokenizer = tmp.resolve("gpt2-tokenizer");
    TestData.gpt2().save(tokenizer);
    Path jsonl = tmp.resolve("corpus.jsonl");
    StringBuilder sb = new StringBuilder();
    for (String line : TextSource.bundledLines("toy_corpus.txt")) {
      sb.append("{\"text\": \"").append(line.replace("\"", "\\\"")).append("\"}\n");
    }
    Files.writeString(jsonl, sb.toString());
    Path data = tmp.resolve("data");
    Outcome prepared = run("prepare-data", "--tokenizer", tokenizer.toString(), "--input", tmp + "/*.jsonl",
        "--output", data.toString(), "--validation-fraction", "0.1", "--threads", "2");
    assertEquals(0, prepared.exit(), prepared.err());
    assertTrue(prepared.out().startsWith("prepared " + data + ": 30 documents (3 validation)"), prepared.out());
    assertTrue(Files.isRegularFile(data.resolve("train_000001.bin")) && Files.isRegularFile(data.resolve("val_000000.bin")));

    Path config = tmp.resolve("config.json");
    Files.writeString(config, "{\"n_layer\": 1, \"n_embd\": 32, \"n_head\": 2, \"n_positions\": 64, \"max_steps\": 4,"
        + " \"per_device_train_batch_size\": 4, \"logging_steps\": 2}");
    Path model = tmp.resolve("model");
    Outcome trained = run("train", "--model", "gpt2", "--data", data.toString(), "--tokenizer", tokenizer.toString(),
        "--config", config.toString(), "--context-length", "16", "--output", model.toString());
    assertEquals(0, trained.exit(), trained.err());
    assertTrue(trained.out().startsWith("trained gpt2: validation loss "), trained.out());
    assertTrue(Files.isRegularFile(model.resolve("model.safetensors")));

    Path resharded = tmp.resolve("resharded");
    assertEquals(0, run("prepare-data", "--tokenizer", tokenizer.toString(), "--input", jsonl.toString(), "--output",
        resharded.toString(), "--validation-fraction", "0.1", "--shard-tokens", "100").exit());
    Outcome otherData = run("train", "--model", "gpt2", "--data", resharded.toString(), "--resume", "--output",
        model.toString());
    assertEquals(1, otherData.exit());
    assertTrue(otherData.err().startsWith("error: " + resharded.toAbsolutePath().resolve("dataset.json") + ": the shards"
        + " differ from the checkpoint's (train_000001.bin had "), otherData.err());
    assertTrue(otherData.err().endsWith(" tokens, now 100); resume with the --data folder the run trained on ("
        + data.toAbsolutePath() + ")\n"), otherData.err());
    Outcome corpusInstead = run("train", "--model", "gpt2", "--corpus", jsonl.toString(), "--resume", "--output",
        model.toString());
    assertEquals("error: " + model.resolve("checkpoint") + ": the checkpoint trained on the token shards in "
        + data.toAbsolutePath() + "; resume with --data " + data.toAbsolutePath() + ", not --corpus\n",
        corpusInstead.err());

    Outcome both = run("train", "--model", "gpt2", "--data", data.toString(), "--corpus", jsonl.toString(),
        "--tokenizer", tokenizer.toString(), "--output", tmp.resolve("x").toString());
    assertEquals(1, both.exit());
    assertEquals("error: give either --corpus FILE... or --data DIR (from prepare-data)\n", both.err());
    Outcome mode = run("train", "--model", "gpt2", "--data", data.toString(), "--mode", "lines", "--tokenizer",
        tokenizer.toString(), "--output", tmp.resolve("y").toString());
    assertEquals(1, mode.exit());
    assertTrue(mode.err().startsWith("error: --mode does not apply to --data"), mode.err());
    Path bert = tmp.resolve("bert-tokenizer");
    TestData.bert().save(bert);
    Outcome other = run("train", "--model", "bert", "--data", data.toString(), "--tokenizer", bert.toString(),
        "--output", tmp.resolve("z").toString());
    assertEquals(1, other.exit());
    assertTrue(other.err().startsWith("error: " + data.resolve("dataset.json") + ": the shards were made with another"
        + " tokenizer"), other.err());
    assertEquals(1, other.err().lines().count(), other.err());

    Outcome missing = run("prepare-data", "--tokenizer", tokenizer.toString(), "--input", tmp.resolve("no.jsonl")
        .toString(), "--output", tmp.resolve("d2").toString());
    assertEquals(1, missing.exit());
    assertEquals("error: " + tmp.resolve("no.jsonl") + ": no such file\n", missing.err());
  }

  @Test
  void trainTokenizerStreamsJsonlAndParquet(@TempDir Path tmp) throws Exception {
    Path parquet = ai.lmtrain.data.parquet.ParquetStringReaderTestAccess.fixture(tmp, "zstd_v2_delta.parquet");
    Path jsonl = tmp.resolve("more.jsonl.gz");
    try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(jsonl))) {
      out.write("{\"body\": \"the lion is the king\"}\n{\"body\": \"of the savanna\"}\n".getBytes(StandardCharsets.UTF_8));
    }
    Path out = tmp.resolve("tok");
    Outcome wrongField = run("train-tokenizer", "--type", "bpe", "--input", jsonl.toString(), "--vocab-size", "300",
        "--output", out.toString());
    assertEquals(1, wrongField.exit());
    assertEquals("error: " + jsonl + ":1: no \"text\" field (fields: body); choose one with --text-field\n",
        wrongField.err());
    Path body = tmp.resolve("body.jsonl");
    Files.writeString(body, "{\"text\": \"the lion\"}\n");
    Outcome ok = run("train-tokenizer", "--type", "wordpiece", "--input", parquet.toString(), body.toString(),
        "--vocab-size", "300", "--max-words", "50", "--output", out.toString());
    assertEquals(0, ok.exit(), ok.err());
    assertTrue(ok.out().startsWith("trained wordpiece tokenizer: vocab size "), ok.out());
    assertTrue(ok.out().contains("pre-token counts pruned"), ok.out());
    assertTrue(ai.lmtrain.tokenizers.Tokenizers.load(out).tokenToId("row").isPresent());
  }
}
