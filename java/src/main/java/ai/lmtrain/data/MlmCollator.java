package ai.lmtrain.data;

import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.TokenizerException;
import java.util.Arrays;
import java.util.List;

/**
 * Masked-LM collator (HF {@code DataCollatorForLanguageModeling(mlm=True)}): each non-special,
 * non-padded position is selected independently with {@code probability}; selected positions get
 * their original id as label (-100 elsewhere) and become the mask id ({@code maskFraction}), a
 * uniform random id ({@code randomFraction}) or stay unchanged (the rest).
 *
 * @param maskId the [MASK] id
 * @param padId the [PAD] id
 * @param vocabSize random replacements are drawn from [0, vocabSize)
 * @param specialIds ids never selected
 * @param probability selection probability (HF default 0.15)
 * @param maskFraction share of selected positions replaced by the mask id (0.8)
 * @param randomFraction share of selected positions replaced by a random id (0.1)
 * @param padToLength pad every batch to this length; 0 = to the longest example
 */
public record MlmCollator(int maskId, int padId, int vocabSize, int[] specialIds, double probability,
    double maskFraction, double randomFraction, int padToLength) implements Collator {

  /** Validates the fractions and sorts the special ids. */
  public MlmCollator {
    if (probability < 0 || probability > 1 || maskFraction < 0 || randomFraction < 0 || maskFraction + randomFraction > 1) {
      throw new IllegalArgumentException("need 0 <= probability <= 1 and maskFraction + randomFraction <= 1");
    }
    specialIds = specialIds.clone();
    Arrays.sort(specialIds);
  }

  /** HF's defaults (0.15, 80/10/10) for a BERT-style tokenizer with [MASK] and [PAD]. */
  public static MlmCollator forTokenizer(Tokenizer tok) {
    String mask = tok.specialTokens().mask();
    String pad = tok.specialTokens().pad();
    if (mask == null || pad == null) {
      throw new TokenizerException("masked LM needs a tokenizer with [MASK] and [PAD] tokens");
    }
    return new MlmCollator(tok.tokenToId(mask).getAsInt(), tok.tokenToId(pad).getAsInt(), tok.vocabSize(),
        tok.specialTokenIds(), 0.15, 0.8, 0.1, 0);
  }

  /** A copy with another selection probability. */
  public MlmCollator withProbability(double p) {
    return new MlmCollator(maskId, padId, vocabSize, specialIds, p, maskFraction, randomFraction, padToLength);
  }

  @Override
  public Batch collate(List<int[]> examples, SplitMix64 rng) {
    PaddedRows rows = PaddedRows.of(examples, padId, padToLength);
    return mask(rows.withLabels(rows.inputIds(), new int[rows.inputIds().length]), rng);
  }

  /**
   * {@code batch} with its tokens masked as described above and the masked positions' original
   * ids as labels (-100 elsewhere); attention mask, segment ids and sequence targets are kept.
   * Draws from {@code rng} position by position, in row-major order.
   */
  public Batch mask(Batch batch, SplitMix64 rng) {
    int[] inputs = batch.inputIds().clone();
    int[] labels = new int[inputs.length];
    Arrays.fill(labels, Batch.IGNORE);
    double randomShare = maskFraction + randomFraction;
    for (int i = 0; i < inputs.length; i++) {
      if (batch.attentionMask()[i] == 0 || Arrays.binarySearch(specialIds, inputs[i]) >= 0) {
        continue;
      }
      if (rng.nextDouble() >= probability) {
        continue;
      }
      labels[i] = inputs[i];
      double u = rng.nextDouble();
      if (u < maskFraction) {
        inputs[i] = maskId;
      } else if (u < randomShare) {
        inputs[i] = rng.nextInt(vocabSize);
      }
    }
    return new Batch(batch.batchSize(), batch.seqLen(), inputs, batch.attentionMask(), batch.tokenTypeIds(), labels,
        batch.sequenceTargets());
  }
}
