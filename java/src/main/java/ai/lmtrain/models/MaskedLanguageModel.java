package ai.lmtrain.models;

/**
 * A bidirectional language model trained by masking tokens ({@link BertForMaskedLM},
 * {@link BertForPreTraining}): its logits at a [MASK] position predict the hidden token, so it
 * serves fill-mask; its loss labels are the masked positions' ids, unshifted.
 */
public interface MaskedLanguageModel extends LanguageModel {
  /** The labels as given (-100 where a position is not scored). */
  @Override
  default int[] lossLabels(ModelInput input) {
    if (input.labels() == null) {
      throw new IllegalArgumentException("labels are required to compute a loss");
    }
    return input.labels();
  }
}
