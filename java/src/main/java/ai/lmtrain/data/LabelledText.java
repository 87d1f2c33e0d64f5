package ai.lmtrain.data;

import java.util.List;

/**
 * One labelled example as read from a file, before tokenization.
 *
 * @param text the text
 * @param textPair the second text of a pair (BERT's segment B), or null
 * @param labels the label value(s) as written: one for a class name, class number or regression
 *     value; several for a JSON array (multi-label classes, or several regression values)
 * @param source where it came from, "FILE:LINE", for error messages
 */
public record LabelledText(String text, String textPair, List<String> labels, String source) {
  public LabelledText {
    labels = List.copyOf(labels);
  }
}
