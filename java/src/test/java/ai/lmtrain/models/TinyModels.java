package ai.lmtrain.models;

import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;

/** Small, dropout-free models and batches for model-level tests. */
public final class TinyModels {
  private TinyModels() {}

  public static final int VOCAB = 53;

  /** BERT: 2 layers, hidden 16, 2 heads, intermediate 40, 12 positions, no dropout. */
  public static BertConfig bertConfig() {
    return new BertConfig(VOCAB, 16, 2, 2, 40, "gelu", 0.0, 0.0, 12, 2, 0.02, 1e-12, 0, "absolute", true);
  }

  /** GPT-2: 2 layers, embd 16, 2 heads, 12 positions, no dropout. */
  public static Gpt2Config gpt2Config() {
    return new Gpt2Config(VOCAB, 12, 16, 2, 2, null, "gelu_new", 0.0, 0.0, 0.0, 1e-5, 0.02, true, false, null, null,
        true);
  }

  public static BertForMaskedLM bert(Backend backend, long seed) {
    BertForMaskedLM m = new BertForMaskedLM(bertConfig(), backend, DType.F32);
    m.initialize(seed);
    return m;
  }

  public static Gpt2LMHeadModel gpt2(Backend backend, long seed) {
    Gpt2LMHeadModel m = new Gpt2LMHeadModel(gpt2Config(), backend, DType.F32);
    m.initialize(seed);
    return m;
  }

  /** A classifier on the tiny BERT or GPT-2 body (GPT-2: pad_token_id 0, the padding of {@link #batch()}). */
  public static SequenceClassifier classifier(String type, ProblemType problem, int numLabels, Backend backend,
      long seed) {
    SequenceClassification head = new SequenceClassification(SequenceClassification.defaultLabels(numLabels), problem,
        type.equals("gpt2") ? 0 : null, null);
    SequenceClassifier m = SequenceClassifier.create(type.equals("gpt2") ? gpt2Config() : bertConfig(), head, backend,
        DType.F32);
    m.initialize(seed);
    return m;
  }

  /**
   * {@link #batch()} as a classification batch with targets for {@code problem}: class ids 2 and 0
   * of 3 labels, multi-hot rows (1, 0, 1) and (0, 1, 1), or values (0.5, -1.25, 2) and (1.5, 0, -0.75).
   */
  public static ai.lmtrain.data.Batch classificationBatch(ProblemType problem) {
    ModelInput in = batch();
    float[] targets = switch (problem) {
      case SINGLE_LABEL -> new float[] {2, 0};
      case MULTI_LABEL -> new float[] {1, 0, 1, 0, 1, 1};
      case REGRESSION -> new float[] {0.5f, -1.25f, 2f, 1.5f, 0f, -0.75f};
    };
    int[] ignored = new int[in.positions()];
    java.util.Arrays.fill(ignored, ModelInput.IGNORE_INDEX);
    return new ai.lmtrain.data.Batch(in.batch(), in.seqLen(), in.inputIds(), in.attentionMask(), in.tokenTypeIds(),
        ignored, targets);
  }

  /** Two sequences of 7 tokens, the second padded after 5, with labels on some positions. */
  public static ModelInput batch() {
    int[] ids = {2, 11, 17, 4, 23, 31, 3, 2, 40, 9, 12, 3, 0, 0};
    int[] mask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    int[] types = {0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0};
    int[] labels = {-100, 11, -100, 45, -100, 31, -100, -100, 40, 9, -100, 3, -100, -100};
    return new ModelInput(2, 7, ids, mask, types, labels);
  }

  /** The same batch with causal-LM labels (= ids, -100 on padding). */
  public static ModelInput clmBatch() {
    ModelInput b = batch();
    int[] labels = b.inputIds().clone();
    for (int i = 0; i < labels.length; i++) {
      if (b.attentionMask()[i] == 0) {
        labels[i] = -100;
      }
    }
    return new ModelInput(2, 7, b.inputIds(), b.attentionMask(), null, labels);
  }
}
