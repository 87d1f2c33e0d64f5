package ai.lmtrain.infer;

import ai.lmtrain.data.Batch;
import ai.lmtrain.data.ClassificationExamples;
import ai.lmtrain.data.DataLoader;
import ai.lmtrain.data.LabelledText;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.models.ProblemType;
import ai.lmtrain.models.SequenceClassification;
import ai.lmtrain.models.SequenceClassifier;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.tokenizers.Tokenizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Classifies texts the way Hugging Face's {@code text-classification} pipeline does: scores are
 * the softmax of the logits for single-label models and the sigmoid for multi-label ones; each
 * text's labels come sorted by score, the top k of them, as {label, score}. One difference:
 * regression models report their raw outputs, where the pipeline would apply a sigmoid (one
 * output) or a softmax (several).
 */
public final class TextClassifier {
  private static final int BATCH = 16;

  private TextClassifier() {}

  /** One label and its score, as the pipeline returns it. */
  public record Prediction(String label, double score) {}

  /**
   * The top {@code topK} labels of each text (all labels when topK is 0 or more than there are).
   * Texts longer than the model's positions are truncated, as when fine-tuning.
   */
  public static List<List<Prediction>> classify(SequenceClassifier model, Tokenizer tokenizer, List<String> texts,
      int topK) {
    if (topK < 0) {
      throw new IllegalArgumentException("top_k must be >= 0 (got " + topK + ")");
    }
    SequenceClassification head = model.classification();
    List<LabelledText> rows = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      rows.add(new LabelledText(texts.get(i), null, List.of(), "text " + (i + 1)));
    }
    boolean bert = model.modelType().equals("bert");
    // GPT-2 without a pad_token_id reads the last position: one text per batch then.
    int batchSize = bert || head.padTokenId() != null ? BATCH : 1;
    DataLoader batches = new DataLoader(ClassificationExamples.encode(tokenizer, rows, model.maxPositions(), bert,
        row -> new float[0]), ClassificationExamples.collator(model.padId()), batchSize, false, 0, false);
    int labels = head.numLabels();
    List<List<Prediction>> out = new ArrayList<>();
    try (Arena arena = new Arena(model.parameters().backend(), 1 << 20)) {
      while (batches.hasNext()) {
        Batch batch = batches.next();
        arena.reset();
        float[] logits = model.parameters().backend().downloadFloats(
            model.forward(Pass.inference(model.parameters(), arena), ModelInput.from(batch)));
        for (int e = 0; e < batch.batchSize(); e++) {
          List<Prediction> ranked = new ArrayList<>();
          double[] scores = scores(logits, e * labels, labels, head.problemType());
          for (int j = 0; j < labels; j++) {
            ranked.add(new Prediction(head.labels().get(j), scores[j]));
          }
          ranked.sort(Comparator.comparingDouble(Prediction::score).reversed());
          out.add(List.copyOf(ranked.subList(0, topK == 0 ? labels : Math.min(topK, labels))));
        }
      }
    }
    return out;
  }

  private static double[] scores(float[] logits, int from, int count, ProblemType type) {
    double[] s = new double[count];
    if (type == ProblemType.SINGLE_LABEL) {
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < count; j++) {
        max = Math.max(max, logits[from + j]);
      }
      double sum = 0;
      for (int j = 0; j < count; j++) {
        s[j] = Math.exp(logits[from + j] - max);
        sum += s[j];
      }
      for (int j = 0; j < count; j++) {
        s[j] /= sum;
      }
    } else {
      boolean sigmoid = type == ProblemType.MULTI_LABEL;
      for (int j = 0; j < count; j++) {
        s[j] = sigmoid ? 1 / (1 + Math.exp(-logits[from + j])) : logits[from + j];
      }
    }
    return s;
  }
}
