package ai.lmtrain.models;

import ai.lmtrain.layers.LmHead;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import java.util.Arrays;

/**
 * What BERT's masked-LM and GPT-2's causal-LM models share: the loss and logits passes over their
 * two halves,
 * <pre>
 *   body:  ids (B, T) -> hidden (B*T, E)                  every position (the transformer)
 *   head:  picked rows of hidden (M, E) -> features (M, E) -> logits (M, V) = features W^T (+ b)
 * </pre>
 * W is the token embedding (tied), or with tie_word_embeddings false the model's own output weight;
 * either is stored with the padded vocabulary's rows ({@link Model#VOCAB_PADDING}).
 * The head runs only on the positions that need logits: those that take a loss (gathered with
 * {@link Backend#gatherRows}, and their gradient scattered back), or the ones inference asks for;
 * its projection and cross-entropy run chunk by chunk ({@link LmHead}).
 */
abstract class TransformerLanguageModel extends TransformerModel implements LanguageModel {
  private final LmHead head;

  /**
   * @param outputWeight the name of the output projection's weight (V, E), stored with the padded
   *     vocabulary's rows: the token embedding (tied) or an untied output weight
   * @param outputBias the name of the output bias, or null
   */
  protected TransformerLanguageModel(Backend backend, ParameterTable table, DType computeType, int vocabSize,
      int maxPositions, String outputWeight, String outputBias) {
    super(backend, table, computeType, vocabSize, maxPositions);
    this.head = new LmHead(outputWeight, outputBias, vocabSize, paddedVocabSize(vocabSize), ModelInput.IGNORE_INDEX);
  }

  /** Runs the transformer over every position: hidden states (B*T, E), kept for {@link #bodyBackward}. */
  protected abstract Tensor body(Pass pass, ModelInput input);

  /** Accumulates the body's parameter gradients from dhidden (B*T, E). */
  protected abstract void bodyBackward(Pass pass, Tensor dhidden);

  /** The head's layers before the output projection on picked rows (M, E) -> (M, E). */
  protected abstract Tensor headFeatures(Pass pass, Tensor rows);

  /** The backward of {@link #headFeatures}: d(rows) (M, E) from d(features) (M, E). */
  protected abstract Tensor headFeaturesBackward(Pass pass, Tensor dfeatures);

  @Override
  public LossOutput loss(Pass pass, ModelInput input, LossTargets targets) {
    ScoredRows rows = uploadScoredRows(pass, input, targets);
    if (rows == null) {
      throw new IllegalArgumentException("no position takes a loss (every label is " + ModelInput.IGNORE_INDEX + ")");
    }
    Tensor hidden = body(pass, input);
    HeadLoss out = headLoss(pass, hidden, rows, targets);
    if (targets.backward()) {
      bodyBackward(pass, out.dhidden());
    }
    return out.output();
  }

  /**
   * The positions of a loss pass that take a loss, on the device: their labels (M) I32, row weights
   * (M) F32 or null, and their row index (M) I32 into the B*T positions (null: all of them).
   */
  protected record ScoredRows(Tensor labels, Tensor weights, Tensor index) {}

  /**
   * Checks {@code targets} against {@code input} and uploads the scored positions' labels, weights
   * and index, before the forward is queued; null when no position takes a loss.
   */
  protected ScoredRows uploadScoredRows(Pass pass, ModelInput input, LossTargets targets) {
    int[] labels = targets.labels();
    if (labels.length != input.positions()) {
      throw new IllegalArgumentException("labels has " + labels.length + " values, expected batch x seq_len = "
          + input.positions());
    }
    int[] rows = scoredRows(labels);
    if (rows.length == 0) {
      return null;
    }
    Backend backend = pass.backend();
    int[] rowLabels = new int[rows.length];
    float[] rowWeights = targets.rowWeights() == null ? null : new float[rows.length];
    for (int i = 0; i < rows.length; i++) {
      rowLabels[i] = labels[rows[i]];
      if (rowWeights != null) {
        rowWeights[i] = targets.rowWeights()[rows[i]];
      }
    }
    Tensor labelTensor = pass.scratch(DType.I32, rows.length);
    backend.upload(labelTensor, rowLabels);
    Tensor weightTensor = null;
    if (rowWeights != null) {
      weightTensor = pass.scratch(DType.F32, rows.length);
      backend.upload(weightTensor, rowWeights);
    }
    return new ScoredRows(labelTensor, weightTensor, uploadIndex(pass, rows, input.positions()));
  }

  /**
   * What {@link #headLoss} produced: the loss output, and with backward the gradient dhidden
   * (B*T, E) of the body's hidden states (null without backward).
   */
  protected record HeadLoss(LossOutput output, Tensor dhidden) {}

  /**
   * The head and its cross-entropy on the scored rows of the body's {@code hidden} (B*T, E), chunk
   * by chunk; with {@code targets.backward()}, the head's parameter gradients accumulate and dhidden
   * is returned for the body's backward (zero at the positions that take no loss).
   */
  protected HeadLoss headLoss(Pass pass, Tensor hidden, ScoredRows rows, LossTargets targets) {
    Tensor features = headFeatures(pass, pick(pass, hidden, rows.index()));
    LmHead.Loss out = head.loss(pass, features, rows.labels(), rows.weights(), targets.gradScale(),
        targets.backward(), targets.predictions());
    Tensor dhidden = null;
    if (targets.backward()) {
      Tensor dpicked = headFeaturesBackward(pass, out.dh());
      dhidden = dpicked;
      if (rows.index() != null) {
        dhidden = pass.activation(hidden.shape());
        pass.backend().gatherRowsBackward(dhidden, dpicked, rows.index());
      }
    }
    return new HeadLoss(new LossOutput(out.lossSum(), out.predictions()), dhidden);
  }

  @Override
  public float[][] logits(Pass pass, ModelInput input, int[] positions) {
    for (int i = 0; i < positions.length; i++) {
      if (positions[i] < 0 || positions[i] >= input.positions() || (i > 0 && positions[i] <= positions[i - 1])) {
        throw new IllegalArgumentException("logit positions must be strictly increasing in [0, "
            + input.positions() + "), got " + Arrays.toString(positions));
      }
    }
    if (positions.length == 0) {
      return new float[0][];
    }
    Tensor index = uploadIndex(pass, positions, input.positions());
    return headLogits(pass, pick(pass, body(pass, input), index));
  }

  /** The logits (V floats each) of hidden-state rows (M, E) that the body produced. */
  protected float[][] headLogits(Pass pass, Tensor rows) {
    return head.logits(pass, headFeatures(pass, rows));
  }

  @Override
  public void setLogitsChunkBytes(long bytes) {
    head.setChunkBytes(bytes);
  }

  /** The positions whose label is not ignored, in order. */
  private static int[] scoredRows(int[] labels) {
    int n = 0;
    for (int label : labels) {
      n += label == ModelInput.IGNORE_INDEX ? 0 : 1;
    }
    int[] rows = new int[n];
    for (int i = 0, k = 0; i < labels.length; i++) {
      if (labels[i] != ModelInput.IGNORE_INDEX) {
        rows[k++] = i;
      }
    }
    return rows;
  }

  /** The row index (M) I32 on the device, or null when it picks every one of the {@code positions} rows. */
  private static Tensor uploadIndex(Pass pass, int[] rows, int positions) {
    if (rows.length == positions) {
      return null; // strictly increasing in [0, positions): all of them, in order
    }
    Tensor index = pass.scratch(DType.I32, rows.length);
    pass.backend().upload(index, rows);
    return index;
  }

  /** The rows of hidden (N, E) that index picks (all of them for a null index). */
  private static Tensor pick(Pass pass, Tensor hidden, Tensor index) {
    if (index == null) {
      return hidden;
    }
    Tensor picked = pass.activation(index.numel(), hidden.dim(-1));
    pass.backend().gatherRows(picked, hidden, index);
    return picked;
  }
}
