package ai.lmtrain.data;

import java.util.List;

/**
 * Causal-LM collator (HF {@code DataCollatorForLanguageModeling(mlm=False)}): labels are the
 * input ids (the model shifts them), with padded positions set to -100 by position (attention
 * mask), not by id, so a genuine end-of-text label survives when pad id == eos id.
 *
 * @param padId id written into padded positions (GPT-2 convention: the eos id)
 * @param padToLength pad every batch to this length; 0 = to the longest example
 */
public record ClmCollator(int padId, int padToLength) implements Collator {

  @Override
  public Batch collate(List<int[]> examples, SplitMix64 rng) {
    PaddedRows rows = PaddedRows.of(examples, padId, padToLength);
    int[] labels = rows.inputIds().clone();
    for (int i = 0; i < labels.length; i++) {
      if (rows.attentionMask()[i] == 0) {
        labels[i] = Batch.IGNORE;
      }
    }
    return rows.withLabels(rows.inputIds(), labels);
  }
}
