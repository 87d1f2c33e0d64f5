package ai.lmtrain.train;

import ai.lmtrain.data.Batch;
import ai.lmtrain.data.DataLoader;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.models.ProblemType;
import ai.lmtrain.models.SequenceClassification;
import ai.lmtrain.models.SequenceClassifier;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.PointwiseLoss;
import ai.lmtrain.tensor.Tensor;
import java.util.Set;

/**
 * Sequence classification with Hugging Face's losses, chosen by the head's problem type (the
 * batches' {@link Batch#sequenceTargets()} hold the targets):
 * <pre>
 *   single-label:  cross-entropy of the logits (B, L) against the class ids, mean over the B examples
 *   multi-label:   binary cross-entropy with logits against 0/1 targets (B, L), mean over all B*L
 *   regression:    squared error against the targets (B, L), mean over all B*L
 * </pre>
 * The loss is fp32 whatever the compute type; its gradient is written over the logits.
 *
 * @param model the classifier
 */
public record ClassificationObjective(SequenceClassifier model) implements TrainingObjective {

  @Override
  public BatchLoss run(Pass pass, Batch batch, boolean backward, float gradScale) {
    return step(pass, batch, backward, gradScale).loss();
  }

  /** A batch's loss and its logits (B, L) (their gradient after a backward). */
  private record Step(BatchLoss loss, Tensor logits) {}

  private Step step(Pass pass, Batch batch, boolean backward, float gradScale) {
    SequenceClassification head = model.classification();
    int b = batch.batchSize();
    int width = head.problemType() == ProblemType.SINGLE_LABEL ? 1 : head.numLabels();
    float[] targets = batch.sequenceTargets();
    if (targets == null || targets.length != b * width) {
      throw new IllegalArgumentException("a " + head.problemType() + " batch of " + b + " examples needs " + b * width
          + " targets, got " + (targets == null ? "none" : targets.length));
    }
    Backend backend = pass.backend();
    Tensor lossSum = pass.scratch(DType.F32, 1);
    Tensor logits;
    float meanScale;
    if (head.problemType() == ProblemType.SINGLE_LABEL) {
      Tensor labels = pass.scratch(DType.I32, b);
      backend.upload(labels, classIds(targets, head.numLabels()));
      logits = model.forward(pass, ModelInput.from(batch));
      meanScale = 1f / b;
      backend.softmaxCrossEntropy(lossSum, null, backward ? logits : null, logits, labels, null,
          ModelInput.IGNORE_INDEX, meanScale * gradScale);
    } else {
      Tensor values = pass.scratch(DType.F32, targets.length);
      backend.upload(values, targets);
      logits = model.forward(pass, ModelInput.from(batch));
      meanScale = 1f / targets.length;
      backend.pointwiseLoss(lossSum, backward ? logits : null, logits, values,
          head.problemType() == ProblemType.MULTI_LABEL ? PointwiseLoss.BCE_WITH_LOGITS : PointwiseLoss.MSE,
          meanScale * gradScale);
    }
    if (backward) {
      model.backward(pass, logits);
    }
    return new Step(new BatchLoss(lossSum, meanScale, b), logits);
  }

  private static int[] classIds(float[] targets, int numLabels) {
    int[] ids = new int[targets.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = (int) targets[i];
      if (ids[i] != targets[i] || ids[i] < 0 || ids[i] >= numLabels) {
        throw new IllegalArgumentException("class id " + targets[i] + " of example " + i + " is not in [0, "
            + numLabels + ")");
      }
    }
    return ids;
  }

  @Override
  public EvalResult evaluate(DataLoader batches, Arena arena) {
    SequenceClassification head = model.classification();
    Backend backend = model.parameters().backend();
    int labels = head.numLabels();
    long[][] confusion = new long[labels][labels];
    long[] truePositives = new long[labels];
    long[] predicted = new long[labels];
    long[] actual = new long[labels];
    long exact = 0;
    long examples = 0;
    double lossSum = 0;
    long lossTerms = 0;
    while (batches.hasNext()) {
      Batch batch = batches.next();
      arena.reset();
      Pass pass = Pass.inference(model.parameters(), arena);
      Step r = step(pass, batch, false, 1f);
      lossSum += backend.downloadFloats(r.loss().lossSum())[0];
      float[] logits = backend.downloadFloats(r.logits());
      float[] targets = batch.sequenceTargets();
      for (int e = 0; e < batch.batchSize(); e++) {
        switch (head.problemType()) {
          case SINGLE_LABEL -> {
            int best = 0;
            for (int j = 1; j < labels; j++) {
              best = logits[e * labels + j] > logits[e * labels + best] ? j : best;
            }
            confusion[(int) targets[e]][best]++;
            lossTerms++;
          }
          case MULTI_LABEL -> {
            boolean all = true;
            for (int j = 0; j < labels; j++) {
              boolean yes = logits[e * labels + j] > 0; // sigmoid(x) > 0.5
              boolean truth = targets[e * labels + j] >= 0.5f;
              predicted[j] += yes ? 1 : 0;
              actual[j] += truth ? 1 : 0;
              truePositives[j] += yes && truth ? 1 : 0;
              all &= yes == truth;
            }
            exact += all ? 1 : 0;
            lossTerms += labels;
          }
          case REGRESSION -> lossTerms += labels;
        }
        examples++;
      }
    }
    if (examples == 0) {
      throw new IllegalArgumentException("the evaluation set has no example");
    }
    double loss = lossSum / lossTerms;
    ClassificationMetrics metrics = switch (head.problemType()) {
      case SINGLE_LABEL -> ClassificationMetrics.singleLabel(head.labels(), confusion);
      case MULTI_LABEL -> ClassificationMetrics.multiLabel(head.labels(), truePositives, predicted, actual, exact,
          examples);
      case REGRESSION -> null;
    };
    return new EvalResult(loss, Double.NaN, metrics == null ? Double.NaN : metrics.accuracy(), examples, metrics);
  }

  @Override
  public Set<String> metricNames() {
    return model.classification().problemType() == ProblemType.REGRESSION ? Set.of("loss")
        : Set.of("loss", "accuracy", "f1", "precision", "recall");
  }
}
