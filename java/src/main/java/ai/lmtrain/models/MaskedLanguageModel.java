package ai.lmtrain.models;

/**
 * A bidirectional language model trained by masking tokens ({@link BertForMaskedLM},
 * {@link BertForPreTraining}): its logits at a [MASK] position predict the hidden token, so it
 * serves fill-mask; its loss labels are the masked positions' ids, unshifted.
 */
public interface MaskedLanguageModel extends LanguageModel {}
