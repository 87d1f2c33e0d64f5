package ai.lmtrain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.infer.FillMask;
import ai.lmtrain.infer.Generator;
import ai.lmtrain.infer.SamplingConfig;
import ai.lmtrain.io.SafeTensorsValidator;
import ai.lmtrain.models.BertForMaskedLM;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.ModelConfigs;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tokenizers.EncodeOptions;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.Tokenizers;
import ai.lmtrain.train.Checkpoints;
import ai.lmtrain.train.MetricsLog;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's main job, end to end on the CPU: {@code lmtrain lab} trains both models, and the
 * saved Hugging Face folders reload into models that learned the corpus: BERT fills "The lion is
 * the [MASK] of the savanna." with "king", GPT-2 continues "The lion is" with "the king of the
 * savanna". With {@code --json} the same answers come as one JSON object on stdout, the report on stderr.
 */
class LabCommandTest {

  @Test
  void labTrainsBothModelsAndTheyLearnTheCorpus(@TempDir Path out) throws Exception {
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    ByteArrayOutputStream reported = new ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(reported, true, StandardCharsets.UTF_8));
      exit = Main.commandLine().execute("lab", "--output", out.toString(), "--json");
    } finally {
      System.setOut(stdout);
      System.setErr(stderr);
    }
    String report = reported.toString(StandardCharsets.UTF_8);
    assertEquals(0, exit, report);
    assertTrue(report.contains("BERT (encoder)") && report.contains("validation perplexity"), report);
    JsonNode summary = new ObjectMapper().readTree(printed.toString(StandardCharsets.UTF_8));
    assertEquals("king", summary.at("/fill_mask/0/predictions/0/token_str").asText(), summary.toString());
    assertTrue(summary.at("/generation/0/greedy").asText().startsWith("the lion is the king of the savanna"),
        summary.toString());
    for (String model : new String[] {"bert", "gpt2"}) {
      JsonNode run = summary.at("/runs/" + model);
      assertEquals(Math.exp(run.get("validation_loss").asDouble()), run.get("validation_perplexity").asDouble(), 1e-9);
      assertTrue(run.get("parameters").asLong() > 0 && run.get("final_train_loss").asDouble() > 0, run.toString());
    }

    for (String model : new String[] {"bert", "gpt2"}) {
      Path dir = out.resolve(model);
      SafeTensorsValidator.validate(dir.resolve("model.safetensors"));
      assertEquals(model, ModelConfigs.read(dir).modelType());
      assertTrue(Files.isRegularFile(dir.resolve("tokenizer.json")));
    }
    BufferedImage png = ImageIO.read(out.resolve("loss-comparison.png").toFile());
    assertNotNull(png, "the loss plot is a readable PNG");
    assertTrue(MetricsLog.read(out.resolve(MetricsLog.FILE_NAME)).size() > 100);

    try (CpuBackend backend = new CpuBackend()) {
      Tokenizer tokenizer = Tokenizers.load(out.resolve("bert"));
      try (BertForMaskedLM bert = (BertForMaskedLM) Checkpoints.loadModel(out.resolve("bert"), backend, DType.F32)) {
        FillMask.Prediction top = FillMask.predict(bert, tokenizer, "The lion is the [MASK] of the savanna.", 3)
            .get(0).get(0);
        assertEquals("king", top.tokenStr(), "BERT's first guess; report:\n" + report);
      }
      try (Gpt2LMHeadModel gpt2 = (Gpt2LMHeadModel) Checkpoints.loadModel(out.resolve("gpt2"), backend, DType.F32)) {
        int[] prompt = tokenizer.encode("The lion is", EncodeOptions.defaults().withAddSpecialTokens(false)).ids();
        int[] ids = new Generator(gpt2).generate(prompt, 6, SamplingConfig.greedy(), -1, true);
        assertTrue(tokenizer.decode(ids, true).startsWith("the lion is the king of the savanna"),
            tokenizer.decode(ids, true));
      }
    }
  }
}
