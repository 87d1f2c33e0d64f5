package ai.lmtrain.models;

import java.util.Locale;

/**
 * What a sequence-classification head predicts, with Hugging Face's {@code problem_type} names and
 * losses: one class per example (cross-entropy), any set of classes (binary cross-entropy per
 * class), or real values (mean squared error).
 */
public enum ProblemType {
  SINGLE_LABEL("single_label_classification"),
  MULTI_LABEL("multi_label_classification"),
  REGRESSION("regression");

  private final String hfName;

  ProblemType(String hfName) {
    this.hfName = hfName;
  }

  /** The config.json value. */
  public String hfName() {
    return hfName;
  }

  /** Parses a config.json {@code problem_type}. */
  public static ProblemType parse(String name) {
    for (ProblemType t : values()) {
      if (t.hfName.equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException("problem_type '" + name + "' is not one of single_label_classification,"
        + " multi_label_classification, regression");
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
