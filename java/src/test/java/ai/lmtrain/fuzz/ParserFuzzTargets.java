package ai.lmtrain.fuzz;

import ai.lmtrain.io.AtomicFiles;
import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.io.SafeTensorsValidator;
import ai.lmtrain.models.ModelConfigs;
import ai.lmtrain.models.ParameterLayouts;
import ai.lmtrain.tokenizers.TokenizerException;
import ai.lmtrain.tokenizers.Tokenizers;
import ai.lmtrain.train.Checkpoints;
import ai.lmtrain.train.MetricsLog;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The fuzz targets: every parser of a file a user (or an attacker) can hand lmtrain — the
 * safetensors header and tensor table, tokenizer.json, vocab.json + merges.txt, vocab.txt,
 * config.json, trainer_state.json and metrics.jsonl — fed the fuzzer's bytes as that file. The
 * invariant: the file is either parsed, or rejected with the project's own exception type whose
 * message names the file. Any other exception, an OutOfMemoryError or a hang is a finding.
 *
 * <p>Each target is also a class with Jazzer's standalone entry point {@code fuzzerTestOneInput},
 * which {@link FuzzCampaign} runs.
 */
public final class ParserFuzzTargets {
  /** The target names, which are also the seed folders under {@code ParserFuzzTestInputs/}. */
  static final List<String> NAMES = List.of("safetensors", "tokenizerJson", "vocabJsonAndMerges", "vocabTxt",
      "configJson", "trainerState", "metrics");

  private static final String SAMPLE_TEXT = "Hello, world! The lion is the king.";
  private static Path dir;

  private ParserFuzzTargets() {}

  /** {@code data} written to {@code name} in a private temporary folder. */
  private static synchronized Path file(String name, byte[] data) throws IOException {
    if (dir == null) {
      dir = Files.createTempDirectory("lmtrain-fuzz");
      Path created = dir;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          AtomicFiles.deleteTree(created);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }));
    }
    return Files.write(dir.resolve(name), data);
  }

  /** A rejection must be a FileFormatException naming the file. */
  private static void requireNamed(FileFormatException e, Path file) {
    if (!e.getMessage().startsWith(file + ": ") || !e.file().equals(file)) {
      throw new AssertionError("a rejection of " + file + " does not name it: " + e.getMessage(), e);
    }
  }

  /** A rejection must be a TokenizerException naming one of the files. */
  private static void requireNamed(TokenizerException e, Path... files) {
    for (Path file : files) {
      if (e.getMessage().contains(file.toString())) {
        return;
      }
    }
    throw new AssertionError("a rejection of " + List.of(files) + " does not name it: " + e.getMessage(), e);
  }

  static void safetensors(byte[] data) throws IOException {
    Path file = file("model.safetensors", data);
    try {
      SafeTensorsValidator.validate(file);
    } catch (FileFormatException e) {
      requireNamed(e, file);
    }
  }

  static void tokenizerJson(byte[] data) throws IOException {
    Path file = file("tokenizer.json", data);
    try {
      Tokenizers.load(file).encode(SAMPLE_TEXT);
    } catch (TokenizerException e) {
      requireNamed(e, file);
    }
  }

  static void vocabJsonAndMerges(FuzzedDataProvider data) throws IOException {
    Path vocab = file("vocab.json", data.consumeString(4096).getBytes(StandardCharsets.UTF_8));
    Path merges = file("merges.txt", data.consumeRemainingAsBytes());
    try {
      Tokenizers.loadGpt2(vocab, merges).encode(SAMPLE_TEXT);
    } catch (TokenizerException e) {
      requireNamed(e, vocab, merges);
    }
  }

  static void vocabTxt(byte[] data) throws IOException {
    Path file = file("vocab.txt", data);
    try {
      Tokenizers.loadVocabTxt(file, true).encode(SAMPLE_TEXT);
    } catch (TokenizerException e) {
      requireNamed(e, file);
    }
  }

  static void configJson(byte[] data) throws IOException {
    Path file = file("config.json", data);
    try {
      ParameterLayouts.table(ModelConfigs.read(file));
    } catch (FileFormatException e) {
      requireNamed(e, file);
    }
  }

  static void trainerState(byte[] data) throws IOException {
    Path file = file(Checkpoints.STATE_FILE, data);
    try {
      Checkpoints.readState(file.getParent());
    } catch (FileFormatException e) {
      requireNamed(e, file);
    }
  }

  static void metrics(byte[] data) throws IOException {
    Path file = file(MetricsLog.FILE_NAME, data);
    try {
      MetricsLog.read(file);
    } catch (FileFormatException e) {
      requireNamed(e, file);
    }
  }

  /**
   * Runs every target once on an empty input, so that the classes they use are loaded (and
   * instrumented by Jazzer) before fuzzing starts: the first input must not count that work toward
   * the per-input timeout.
   */
  static void warmUp() throws IOException {
    byte[] empty = new byte[0];
    safetensors(empty);
    tokenizerJson(empty);
    vocabTxt(empty);
    configJson(empty);
    trainerState(empty);
    metrics(empty);
    try {
      Tokenizers.loadGpt2(file("vocab.json", empty), file("merges.txt", empty));
    } catch (TokenizerException expected) {
      // an empty vocab.json is rejected, naming the file
    }
  }

  /**
   * Jazzer's standalone entry points, one class per target (see {@link FuzzCampaign}); Jazzer calls
   * {@code fuzzerInitialize} once before fuzzing.
   */
  public static final class Safetensors {
    public static void fuzzerInitialize() throws IOException {
      warmUp();
    }

    public static void fuzzerTestOneInput(byte[] data) throws IOException {
      safetensors(data);
    }
  }

  public static final class TokenizerJson {
    public static void fuzzerInitialize() throws IOException {
      warmUp();
    }

    public static void fuzzerTestOneInput(byte[] data) throws IOException {
      tokenizerJson(data);
    }
  }

  public static final class VocabJsonAndMerges {
    public static void fuzzerInitialize() throws IOException {
      warmUp();
    }

    public static void fuzzerTestOneInput(FuzzedDataProvider data) throws IOException {
      vocabJsonAndMerges(data);
    }
  }

  public static final class VocabTxt {
    public static void fuzzerInitialize() throws IOException {
      warmUp();
    }

    public static void fuzzerTestOneInput(byte[] data) throws IOException {
      vocabTxt(data);
    }
  }

  public static final class ConfigJson {
    public static void fuzzerInitialize() throws IOException {
      warmUp();
    }

    public static void fuzzerTestOneInput(byte[] data) throws IOException {
      configJson(data);
    }
  }

  public static final class TrainerState {
    public static void fuzzerInitialize() throws IOException {
      warmUp();
    }

    public static void fuzzerTestOneInput(byte[] data) throws IOException {
      trainerState(data);
    }
  }

  public static final class Metrics {
    public static void fuzzerInitialize() throws IOException {
      warmUp();
    }

    public static void fuzzerTestOneInput(byte[] data) throws IOException {
      metrics(data);
    }
  }
}
