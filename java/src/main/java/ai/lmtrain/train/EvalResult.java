package ai.lmtrain.train;

/**
 * Evaluation over a whole split.
 *
 * @param loss mean loss over all scored positions (each position weighs the same)
 * @param perplexity exp(loss)
 * @param accuracy share of scored positions whose argmax equals the label (MLM accuracy for BERT,
 *     next-token accuracy for GPT-2)
 * @param scoredPositions positions that took a loss
 */
public record EvalResult(double loss, double perplexity, double accuracy, long scoredPositions) {}
