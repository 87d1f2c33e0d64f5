package ai.lmtrain.cli;

import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.Model;
import ai.lmtrain.models.SequenceClassifier;
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
  record Open<M extends Model>(Backend backend, M model, Tokenizer tokenizer) implements AutoCloseable {
    @Override
    public void close() {
      model.close();
      backend.close();
    }
  }

  /** How a model folder is loaded onto a backend. */
  @FunctionalInterface
  private interface Loader<M extends Model> {
    M load(Path dir, Backend backend, DType computeType) throws IOException;
  }

  /** Loads the folder as a language model; the tokenizer's vocabulary must fit the model's. */
  Open<LanguageModel> open() throws IOException {
    return open(Checkpoints::loadModel);
  }

  /** Loads the folder as a sequence classifier (saved by 'lmtrain finetune' or transformers). */
  Open<SequenceClassifier> openClassifier() throws IOException {
    return open(Checkpoints::loadClassifier);
  }

  private <M extends Model> Open<M> open(Loader<M> loader) throws IOException {
    Backend backend = Backends.open(Device.parse(device));
    try {
      M model = loader.load(dir, backend, DType.F32);
      return new Open<>(backend, model, tokenizerFor(model));
    } catch (IOException | RuntimeException e) {
      backend.close();
      throw e;
    }
  }

  /**
   * The folder's tokenizer, which must belong with the model (see {@link
   * Checkpoints#requireMatchingTokenizer}); closes the model on failure.
   */
  private Tokenizer tokenizerFor(Model model) {
    try {
      Tokenizer tokenizer = Tokenizers.load(dir);
      Checkpoints.requireMatchingTokenizer(model, tokenizer, dir);
      return tokenizer;
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }
}
