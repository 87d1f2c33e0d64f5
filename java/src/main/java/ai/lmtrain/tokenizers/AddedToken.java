package ai.lmtrain.tokenizers;

/**
 * A token outside the model's own vocabulary rules (for example {@code [CLS]} or
 * {@code <|endoftext|>}): matched literally in raw text before normalization and never split.
 *
 * @param id the token id
 * @param content the literal text of the token
 * @param special whether it is a special token (skipped by {@code decode(ids, true)}, marked in the
 *     special-tokens mask, never masked by the MLM collator)
 */
public record AddedToken(int id, String content, boolean special) {}
