package ai.lmtrain.train;

import ai.lmtrain.data.Batch;
import ai.lmtrain.data.DataLoader;
import ai.lmtrain.data.SentencePairs;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.BertForPreTraining;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.Tensor;
import java.util.Set;

/**
 * BERT pre-training with the masked-LM loss and a sentence-pair task (NSP or SOP through the
 * {@link BertForPreTraining} head), the loss of Hugging Face's BertForPreTraining:
 * <pre>
 *   loss = mean over masked positions of CE(logits, labels) + mean over the B examples of CE(seq_relationship, label)
 * </pre>
 * The batches come from {@link SentencePairs#collator}: token labels from the masked-LM collator,
 * the sentence labels (0/1) as {@link Batch#sequenceTargets()}. Both losses are fp32 and their
 * gradients reach the encoder through both heads in one backward. A batch in which no token was
 * masked (Hugging Face: a NaN loss) takes the sentence-pair loss alone.
 *
 * @param model the pre-training model
 * @param task NSP or SOP (names the metrics: nsp_accuracy, sop_accuracy, ...)
 */
public record SentencePairObjective(BertForPreTraining model, SentencePairs.Task task) implements TrainingObjective {

  @Override
  public BatchLoss run(Pass pass, Batch batch, boolean backward, float gradScale) {
    return step(pass, batch, backward, gradScale).loss;
  }

  /**
   * One batch's losses on the device: the total, the masked-LM step, the sentence-pair mean loss
   * (1) and logits (B, 2).
   */
  private record Step(BatchLoss loss, LossStep.Result maskedLm, Tensor sentenceLoss, Tensor seqLogits) {}

  private Step step(Pass pass, Batch batch, boolean backward, float gradScale) {
    ModelInput input = ModelInput.from(batch);
    int b = batch.batchSize();
    Backend backend = pass.backend();
    LossStep.Targets targets = LossStep.targets(model, input, LossWeighting.MEAN, backward, gradScale, !backward);
    BertForPreTraining.PreTrainingLoss out = model.preTrainingLoss(pass, input, targets.targets(),
        sentenceLabels(batch), gradScale / b);
    LossStep.Result maskedLm = targets.result(backend, out.maskedLm());
    Tensor sentenceLoss = out.sentenceLossSum();
    backend.scale(sentenceLoss, 1f / b); // now the mean over the examples
    Tensor total = sentenceLoss;
    if (maskedLm.lossSum() != null) {
      Tensor maskedLmLoss = pass.scratch(DType.F32, 1);
      backend.copy(maskedLmLoss, maskedLm.lossSum());
      backend.scale(maskedLmLoss, maskedLm.meanScale());
      total = pass.scratch(DType.F32, 1);
      backend.add(total, maskedLmLoss, sentenceLoss);
    }
    return new Step(new BatchLoss(total, 1f, b), maskedLm, sentenceLoss, out.sentenceLogits());
  }

  @Override
  public EvalResult evaluate(DataLoader batches, Arena arena) {
    Backend backend = model.parameters().backend();
    Evaluation.Totals maskedLm = new Evaluation.Totals();
    double sentenceLossSum = 0;
    long correct = 0;
    long examples = 0;
    while (batches.hasNext()) {
      Batch batch = batches.next();
      arena.reset();
      Step r = step(Pass.inference(model.parameters(), arena), batch, false, 1f);
      maskedLm.add(r.maskedLm);
      sentenceLossSum += backend.downloadFloats(r.sentenceLoss)[0] * (double) batch.batchSize();
      float[] logits = backend.downloadFloats(r.seqLogits);
      int[] labels = sentenceLabels(batch);
      for (int e = 0; e < labels.length; e++) {
        int predicted = logits[2 * e + 1] > logits[2 * e] ? 1 : 0;
        correct += predicted == labels[e] ? 1 : 0;
      }
      examples += labels.length;
    }
    if (examples == 0) {
      throw new IllegalArgumentException("the evaluation set has no example");
    }
    double mlmLoss = maskedLm.loss();
    EvalResult mlm = maskedLm.result();
    double sentenceLoss = sentenceLossSum / examples;
    return new EvalResult(mlmLoss + sentenceLoss, Math.exp(mlmLoss), mlm.accuracy(), mlm.scoredPositions(), null,
        new SentencePairMetrics(task.key(), mlmLoss, sentenceLoss, correct / (double) examples, examples));
  }

  @Override
  public Set<String> metricNames() {
    return Set.of("loss", "perplexity", "accuracy", "mlm_loss", task.key() + "_loss", task.key() + "_accuracy");
  }

  /** The batch's sentence labels (B), each 0 or 1. */
  private static int[] sentenceLabels(Batch batch) {
    float[] targets = batch.sequenceTargets();
    if (targets == null || targets.length != batch.batchSize()) {
      throw new IllegalArgumentException("a sentence-pair batch of " + batch.batchSize() + " examples needs "
          + batch.batchSize() + " sentence labels, got " + (targets == null ? "none" : targets.length));
    }
    int[] labels = new int[targets.length];
    for (int i = 0; i < labels.length; i++) {
      if (targets[i] != 0f && targets[i] != 1f) {
        throw new IllegalArgumentException("sentence label " + targets[i] + " of example " + i + " is not 0 or 1");
      }
      labels[i] = (int) targets[i];
    }
    return labels;
  }
}
