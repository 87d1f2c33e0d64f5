package ai.lmtrain.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * The parser fuzz targets ({@link ParserFuzzTargets}) as Jazzer JUnit fuzz tests. {@code mvn
 * verify} runs each on the empty input and on its committed seeds, {@code
 * src/test/resources/ai/lmtrain/fuzz/ParserFuzzTestInputs/<target>/}, which also keep every
 * crashing input found so far as a regression seed; {@link FuzzCampaign} fuzzes them (a few seconds
 * each in {@code mvn verify}, longer with {@code -Pfuzz}). One test may also be fuzzed here with
 * {@code JAZZER_FUZZ=1 mvn test -Dtest='ParserFuzzTest#configJson'}. An input that runs for two
 * minutes fails as a hang.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ParserFuzzTest {
  @FuzzTest(maxDuration = "60s")
  void safetensors(byte[] data) throws IOException {
    ParserFuzzTargets.safetensors(data);
  }

  @FuzzTest(maxDuration = "60s")
  void tokenizerJson(byte[] data) throws IOException {
    ParserFuzzTargets.tokenizerJson(data);
  }

  @FuzzTest(maxDuration = "60s")
  void vocabJsonAndMerges(FuzzedDataProvider data) throws IOException {
    ParserFuzzTargets.vocabJsonAndMerges(data);
  }

  @FuzzTest(maxDuration = "60s")
  void vocabTxt(byte[] data) throws IOException {
    ParserFuzzTargets.vocabTxt(data);
  }

  @FuzzTest(maxDuration = "60s")
  void configJson(byte[] data) throws IOException {
    ParserFuzzTargets.configJson(data);
  }

  @FuzzTest(maxDuration = "60s")
  void trainerState(byte[] data) throws IOException {
    ParserFuzzTargets.trainerState(data);
  }

  @FuzzTest(maxDuration = "60s")
  void metrics(byte[] data) throws IOException {
    ParserFuzzTargets.metrics(data);
  }
}
