package ai.lmtrain.cli;

import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.Backends;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.Device;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.Tokenizers;
import ai.lmtrain.train.Checkpoints;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --model DIR --device D} options of the inference commands, and the model they load. */
final class LoadedModel {
  @Option(names = "--model", required = true, paramLabel = "DIR",
      description = "model folder (model.safetensors, config.json, tokenizer.json), saved here or by transformers")
  Path dir;

  @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda[:N] (default: ${DEFAULT-VALUE})")
  String device;

  /** An open model with its tokenizer and backend; closing releases all three. */
  record Open(Backend backend, LanguageModel model, Tokenizer tokenizer) implements AutoCloseable {
    @Override
    public void close() {
      model.close();
      backend.close();
    }
  }

  /** Loads the folder; the tokenizer must belong with the model (see {@link Checkpoints#requireMatchingTokenizer}). */
  Open open() throws IOException {
    Backend backend = Backends.open(Device.parse(device));
    try {
      LanguageModel model = Checkpoints.loadModel(dir, backend, DType.F32);
      Tokenizer tokenizer;
      try {
        tokenizer = Tokenizers.load(dir);
        Checkpoints.requireMatchingTokenizer(model, tokenizer, dir);
      } catch (RuntimeException e) {
        model.close();
        throw e;
      }
      return new Open(backend, model, tokenizer);
    } catch (IOException | RuntimeException e) {
      backend.close();
      throw e;
    }
  }
}
