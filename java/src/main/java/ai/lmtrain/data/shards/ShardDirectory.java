package ai.lmtrain.data.shards;

import ai.lmtrain.data.TokenDataset;
import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.io.Sha256;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.Tokenizers;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A folder of token shards opened for training: one written by {@code prepare-data} (its
 * {@code dataset.json} is checked against the tokenizer and every shard against its entry), or one
 * written by llm.c's scripts (no dataset.json: the {@code *train*.bin} and {@code *val*.bin} files,
 * in name order; the tokenizer cannot be checked then, but every token read is checked against its
 * vocabulary).
 *
 * @param dir the folder
 * @param info its dataset.json, or null for llm.c shards
 * @param datasetSha256 the SHA-256 (lowercase hex) of dataset.json's bytes, or null for llm.c shards
 * @param train the training shards
 * @param validation the validation shards (may be empty)
 */
public record ShardDirectory(Path dir, DatasetInfo info, String datasetSha256, List<TokenShard> train,
    List<TokenShard> validation) {

  /** Copies the lists. */
  public ShardDirectory {
    train = List.copyOf(train);
    validation = List.copyOf(validation);
  }

  /**
   * Opens {@code dir} for {@code tokenizer}.
   *
   * @throws IOException if the folder is missing, incomplete (a killed prepare-data), holds no
   *     shards, was prepared with another tokenizer, or a shard is missing or does not match
   *     dataset.json
   */
  public static ShardDirectory open(Path dir, Tokenizer tokenizer) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new NoSuchFileException(dir.toString(), null, "no such folder (expected the --output of prepare-data)");
    }
    if (Files.exists(dir.resolve(PrepareData.INCOMPLETE_MARKER))) {
      throw new IOException(dir + ": prepare-data did not finish writing this folder (" + PrepareData.INCOMPLETE_MARKER
          + " is present); run prepare-data again");
    }
    if (!Files.exists(dir.resolve(DatasetInfo.FILE_NAME))) {
      return llmc(dir, tokenizer);
    }
    Path infoFile = dir.resolve(DatasetInfo.FILE_NAME);
    byte[] infoBytes = Files.readAllBytes(infoFile);
    DatasetInfo info = DatasetInfo.parse(infoFile, infoBytes);
    String sha = Tokenizers.sha256(tokenizer);
    if (!info.tokenizerSha256().equals(sha) || info.vocabSize() != tokenizer.vocabSize()) {
      throw new FileFormatException(dir.resolve(DatasetInfo.FILE_NAME), "the shards were made with another tokenizer"
          + " (sha256 " + info.tokenizerSha256().substring(0, Math.min(12, info.tokenizerSha256().length()))
          + "..., vocabulary " + info.vocabSize() + "), not this one (sha256 " + sha.substring(0, 12) + "..., vocabulary "
          + tokenizer.vocabSize() + "); pass the --tokenizer given to prepare-data");
    }
    List<TokenShard> train = new ArrayList<>();
    List<TokenShard> validation = new ArrayList<>();
    for (DatasetInfo.Shard s : info.shards()) {
      Path file = dir.resolve(s.file());
      if (!s.file().equals(file.getFileName().toString())) {
        throw new FileFormatException(dir.resolve(DatasetInfo.FILE_NAME), "shard name " + s.file() + " is not a plain"
            + " file name");
      }
      TokenShard shard = TokenShard.open(file);
      if (shard.size() != s.tokens() || shard.header().tokenBytes() != info.tokenBytes()) {
        throw new FileFormatException(file, "holds " + shard.size() + " tokens of " + shard.header().tokenBytes()
            + " bytes, but " + DatasetInfo.FILE_NAME + " lists " + s.tokens() + " tokens of " + info.tokenBytes()
            + " bytes");
      }
      (s.split().equals("validation") ? validation : train).add(shard);
    }
    if (train.isEmpty()) {
      throw new FileFormatException(dir.resolve(DatasetInfo.FILE_NAME), "lists no train shard");
    }
    return new ShardDirectory(dir, info, Sha256.hex(infoBytes), train, validation);
  }

  /** What identifies these shards, for a checkpoint to record (see {@link DatasetIdentity}). */
  public DatasetIdentity identity() {
    List<DatasetInfo.Shard> shards = new ArrayList<>();
    for (TokenShard s : train) {
      shards.add(new DatasetInfo.Shard(s.file().getFileName().toString(), "train", s.size()));
    }
    for (TokenShard s : validation) {
      shards.add(new DatasetInfo.Shard(s.file().getFileName().toString(), "validation", s.size()));
    }
    return new DatasetIdentity(dir.toAbsolutePath().normalize().toString(), datasetSha256, shards);
  }

  /**
   * The examples of {@code shards} for a model of {@code contextLength} positions: packed documents
   * ({@link PackedDocumentDataset}) for a BERT-style tokenizer, causal windows
   * ({@link ShardWindowDataset}) for a GPT-2 style one.
   */
  public static TokenDataset examples(List<TokenShard> shards, Tokenizer tokenizer, int contextLength) {
    DocumentTokens docs = DocumentTokens.of(tokenizer);
    return docs.endId() >= 0
        ? new PackedDocumentDataset(shards, contextLength, docs.startId(), docs.endId(), tokenizer.vocabSize())
        : new ShardWindowDataset(shards, contextLength, tokenizer.vocabSize());
  }

  /** llm.c's layout: {@code *train*.bin} and {@code *val*.bin}, sorted by name. */
  private static ShardDirectory llmc(Path dir, Tokenizer tokenizer) throws IOException {
    List<Path> train = new ArrayList<>();
    List<Path> validation = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.bin")) {
      for (Path p : files) {
        String name = p.getFileName().toString();
        if (name.contains("train")) {
          train.add(p);
        } else if (name.contains("val")) {
          validation.add(p);
        }
      }
    }
    if (train.isEmpty()) {
      throw new IOException(dir + ": no " + DatasetInfo.FILE_NAME + " and no *train*.bin shards (expected the --output"
          + " of prepare-data, or llm.c's .bin shards)");
    }
    train.sort(null);
    validation.sort(null);
    return new ShardDirectory(dir, null, null, openAll(train), openAll(validation));
  }

  private static List<TokenShard> openAll(List<Path> files) throws IOException {
    List<TokenShard> out = new ArrayList<>();
    for (Path p : files) {
      out.add(TokenShard.open(p));
    }
    return out;
  }
}
