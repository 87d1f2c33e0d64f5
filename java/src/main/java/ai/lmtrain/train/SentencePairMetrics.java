package ai.lmtrain.train;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The evaluation of a BERT pre-trained with a sentence-pair task, next to its masked-LM metrics.
 *
 * @param task "nsp" (next sentence prediction) or "sop" (sentence order prediction)
 * @param mlmLoss mean masked-LM cross-entropy over the masked positions
 * @param loss mean cross-entropy of the sentence-pair head over the examples
 * @param accuracy share of examples whose label (0 or 1) the head's argmax predicts
 * @param examples examples evaluated
 */
public record SentencePairMetrics(
    @JsonProperty("task") String task,
    @JsonProperty("mlm_loss") double mlmLoss,
    @JsonProperty("loss") double loss,
    @JsonProperty("accuracy") double accuracy,
    @JsonProperty("examples") long examples) {}
