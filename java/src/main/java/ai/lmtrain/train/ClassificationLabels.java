package ai.lmtrain.train;

import ai.lmtrain.data.LabelledText;
import ai.lmtrain.models.ProblemType;
import ai.lmtrain.models.SequenceClassification;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalInt;
import java.util.TreeSet;

/**
 * From labels as written in a file to a classification head and its targets. Labels are names
 * ("positive") or numbers ("4"); in a CSV cell a multi-label example lists its labels separated
 * by commas, in JSON lines it may hold an array.
 *
 * <p>The label set comes from the base model's config when it already is a classifier, else from
 * the training file: its distinct labels, sorted (numerically when every label is a number, else
 * by their text), so the same file always gives the same ids. Every problem names the file, line,
 * column and value.
 */
public final class ClassificationLabels {
  private ClassificationLabels() {}

  /**
   * The head to fine-tune.
   *
   * @param fromModel the base folder's head when it is a classifier, else null
   * @param train the training rows
   * @param labelColumn the label column's name (for messages)
   * @param numLabels num_labels asked for in the settings, or null
   * @param problemType problem_type asked for in the settings, or null (inferred: regression for
   *     num_labels 1, multi-label when a row holds several labels, else single-label)
   * @param classifierDropout classifier_dropout from the settings, or null
   */
  public static SequenceClassification head(SequenceClassification fromModel, List<LabelledText> train,
      String labelColumn, Integer numLabels, ProblemType problemType, Double classifierDropout, String modelSource) {
    if (fromModel != null) {
      if (numLabels != null && numLabels != fromModel.numLabels()) {
        throw new IllegalArgumentException("label count mismatch: the settings ask for num_labels " + numLabels + " but "
            + modelSource + " is a classifier of " + fromModel.numLabels() + " labels " + fromModel.labels());
      }
      if (problemType != null && problemType != fromModel.problemType()) {
        throw new IllegalArgumentException("the settings ask for problem_type " + problemType.hfName() + " but "
            + modelSource + " is a " + fromModel.problemType().hfName() + " model");
      }
      return classifierDropout == null ? fromModel : new SequenceClassification(fromModel.labels(),
          fromModel.problemType(), fromModel.padTokenId(), classifierDropout);
    }
    ProblemType type = problemType != null ? problemType
        : numLabels != null && numLabels == 1 ? ProblemType.REGRESSION
        : train.stream().anyMatch(r -> r.labels().size() > 1) ? ProblemType.MULTI_LABEL : ProblemType.SINGLE_LABEL;
    List<String> labels;
    if (type == ProblemType.REGRESSION) {
      int width = numLabels != null ? numLabels : train.get(0).labels().size();
      labels = SequenceClassification.defaultLabels(width);
    } else {
      TreeSet<String> names = new TreeSet<>(labelOrder(train, type));
      for (LabelledText row : train) {
        names.addAll(values(row, type));
      }
      labels = new ArrayList<>(names);
      String file = train.get(0).source().replaceFirst(":\\d+$", "");
      if (numLabels != null && numLabels != labels.size()) {
        throw new IllegalArgumentException("label count mismatch: the settings ask for num_labels " + numLabels + " but "
            + file + " has " + labels.size() + " distinct labels in column '" + labelColumn + "' " + labels);
      }
      if (type == ProblemType.SINGLE_LABEL && labels.size() < 2) {
        throw new IllegalArgumentException(file + ": column '" + labelColumn + "' holds only the label " + labels
            + " (classification needs at least 2)");
      }
    }
    return new SequenceClassification(labels, type, null, classifierDropout);
  }

  /**
   * The targets of one row for {@code head}: the class id (single-label), a 0/1 row over the labels
   * (multi-label), or the values (regression).
   */
  public static float[] targets(SequenceClassification head, LabelledText row, String labelColumn) {
    List<String> values = values(row, head.problemType());
    switch (head.problemType()) {
      case SINGLE_LABEL -> {
        if (values.size() != 1) {
          throw new IllegalArgumentException(row.source() + ": column '" + labelColumn + "' holds " + values.size()
              + " labels " + values + " but the model is single-label (set problem_type"
              + " multi_label_classification for several labels per example)");
        }
        return new float[] {id(head, row, values.get(0), labelColumn)};
      }
      case MULTI_LABEL -> {
        float[] multiHot = new float[head.numLabels()];
        for (String v : values) {
          multiHot[id(head, row, v, labelColumn)] = 1;
        }
        return multiHot;
      }
      default -> {
        if (values.size() != head.numLabels()) {
          throw new IllegalArgumentException(row.source() + ": column '" + labelColumn + "' holds " + values.size()
              + " value(s) but the regression model has num_labels " + head.numLabels());
        }
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
          try {
            out[i] = Float.parseFloat(values.get(i));
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException(row.source() + ": column '" + labelColumn + "' value '" + values.get(i)
                + "' is not a number (regression targets are numbers)", e);
          }
          if (!Float.isFinite(out[i])) {
            throw new IllegalArgumentException(row.source() + ": column '" + labelColumn + "' value '"
                + values.get(i) + "' is not finite");
          }
        }
        return out;
      }
    }
  }

  /** The label id of {@code name}: by name, else, when no label is named by a number, as the id itself. */
  private static int id(SequenceClassification head, LabelledText row, String name, String labelColumn) {
    OptionalInt byName = head.labelId(name);
    if (byName.isPresent()) {
      return byName.getAsInt();
    }
    if (head.labels().stream().noneMatch(ClassificationLabels::isNumber) && name.matches("\\d+")
        && name.length() < 10 && Integer.parseInt(name) < head.numLabels()) {
      return Integer.parseInt(name);
    }
    throw new IllegalArgumentException(row.source() + ": unknown label '" + name + "' in column '" + labelColumn
        + "' (the model's labels are " + head.labels() + ")");
  }

  /** The row's label values; a multi-label CSV cell's comma-separated names are split. */
  private static List<String> values(LabelledText row, ProblemType type) {
    if (type != ProblemType.MULTI_LABEL) {
      return row.labels();
    }
    List<String> out = new ArrayList<>();
    for (String v : row.labels()) {
      for (String part : v.split(",")) {
        if (!part.isBlank()) {
          out.add(part.strip());
        }
      }
    }
    return out;
  }

  /** Numeric order when every label is a number, else text order. */
  private static Comparator<String> labelOrder(List<LabelledText> rows, ProblemType type) {
    boolean numeric = rows.stream().allMatch(r -> values(r, type).stream().allMatch(ClassificationLabels::isNumber));
    return numeric ? Comparator.comparing(BigDecimal::new) : Comparator.naturalOrder();
  }

  private static boolean isNumber(String s) {
    try {
      new BigDecimal(s);
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
