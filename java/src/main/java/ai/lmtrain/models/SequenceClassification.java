package ai.lmtrain.models;

import ai.lmtrain.io.FileFormatException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * The config.json keys of a sequence-classification head, as Hugging Face writes them next to the
 * base model's keys: {@code id2label} / {@code label2id} (the label set; {@code num_labels} is
 * their count), {@code problem_type}, and the head's own settings.
 *
 * @param labels id2label in id order: label i is the name of logit i (regression: the names of the outputs)
 * @param problemType the loss (cross-entropy, binary cross-entropy, squared error)
 * @param padTokenId GPT-2's {@code pad_token_id}: the head reads each row's last token that is not
 *     padding (null: batches of one sequence only, as in Hugging Face). BERT keeps its pad_token_id
 *     in {@link BertConfig}; there it is null.
 * @param classifierDropout BERT's {@code classifier_dropout} before the classifier (null:
 *     hidden_dropout_prob); null for GPT-2, whose score head has no dropout
 */
public record SequenceClassification(List<String> labels, ProblemType problemType, Integer padTokenId,
    Double classifierDropout) {

  public SequenceClassification {
    labels = List.copyOf(labels);
    if (labels.isEmpty()) {
      throw new IllegalArgumentException("a classification head needs at least one label");
    }
    if (new HashSet<>(labels).size() != labels.size()) {
      throw new IllegalArgumentException("label names must be distinct (got " + labels + ")");
    }
    if (problemType == ProblemType.SINGLE_LABEL && labels.size() < 2) {
      throw new IllegalArgumentException("single-label classification needs at least 2 labels (got " + labels + ")");
    }
    if (classifierDropout != null && !(classifierDropout >= 0 && classifierDropout < 1)) {
      throw new IllegalArgumentException("classifier_dropout must be in [0, 1), got " + classifierDropout);
    }
  }

  /** num_labels: the width of the logits. */
  public int numLabels() {
    return labels.size();
  }

  /** The id of the label called {@code name}, if there is one. */
  public OptionalInt labelId(String name) {
    int i = labels.indexOf(name);
    return i < 0 ? OptionalInt.empty() : OptionalInt.of(i);
  }

  /** This head with another GPT-2 pad_token_id. */
  public SequenceClassification withPadTokenId(Integer id) {
    return new SequenceClassification(labels, problemType, id, classifierDropout);
  }

  /** Hugging Face's names for labels nobody named: LABEL_0, LABEL_1, ... */
  public static List<String> defaultLabels(int count) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      names.add("LABEL_" + i);
    }
    return names;
  }

  /** Writes id2label, label2id, problem_type and the head's own keys into a config.json object. */
  void writeTo(ObjectNode node, boolean gpt2) {
    ObjectNode id2label = node.putObject("id2label");
    ObjectNode label2id = node.putObject("label2id");
    for (int i = 0; i < labels.size(); i++) {
      id2label.put(Integer.toString(i), labels.get(i));
      label2id.put(labels.get(i), i);
    }
    node.put("problem_type", problemType.hfName());
    if (gpt2) {
      if (padTokenId == null) {
        node.putNull("pad_token_id");
      } else {
        node.put("pad_token_id", padTokenId);
      }
    } else if (classifierDropout == null) {
      node.putNull("classifier_dropout");
    } else {
      node.put("classifier_dropout", classifierDropout);
    }
  }

  /**
   * The head described by a config.json object, or null when it names no labels (neither
   * {@code id2label} nor {@code num_labels}). A missing problem_type is inferred as Hugging Face
   * does: regression for one label, single-label classification otherwise.
   *
   * @throws FileFormatException naming {@code file} when the keys contradict each other
   */
  static SequenceClassification read(ObjectNode config, boolean gpt2, Path file) throws FileFormatException {
    JsonNode id2label = config.get("id2label");
    JsonNode numLabels = config.get("num_labels");
    if ((id2label == null || id2label.isNull()) && (numLabels == null || numLabels.isNull())) {
      return null;
    }
    try {
      List<String> labels;
      if (id2label != null && !id2label.isNull()) {
        labels = labelsOf(id2label);
        if (numLabels != null && !numLabels.isNull() && numLabels.asInt() != labels.size()) {
          throw new IllegalArgumentException("num_labels is " + numLabels + " but id2label names " + labels.size()
              + " labels");
        }
      } else {
        if (!numLabels.canConvertToInt() || numLabels.asInt() < 1) {
          throw new IllegalArgumentException("num_labels must be a positive integer, got " + numLabels);
        }
        labels = defaultLabels(numLabels.asInt());
      }
      checkLabel2Id(config.get("label2id"), labels);
      JsonNode type = config.get("problem_type");
      ProblemType problemType = type == null || type.isNull()
          ? (labels.size() == 1 ? ProblemType.REGRESSION : ProblemType.SINGLE_LABEL)
          : ProblemType.parse(type.asText());
      Integer pad = gpt2 ? intOrNull(config.get("pad_token_id"), "pad_token_id") : null;
      JsonNode dropout = config.get("classifier_dropout");
      Double classifierDropout = gpt2 || dropout == null || dropout.isNull() ? null : dropout.asDouble();
      return new SequenceClassification(labels, problemType, pad, classifierDropout);
    } catch (IllegalArgumentException e) {
      throw new FileFormatException(file, "invalid classification head: " + e.getMessage(), e);
    }
  }

  private static List<String> labelsOf(JsonNode id2label) {
    if (!id2label.isObject()) {
      throw new IllegalArgumentException("id2label must be an object of \"id\": \"name\", got " + id2label);
    }
    Map<Integer, String> byId = new TreeMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = id2label.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      int id;
      try {
        id = Integer.parseInt(e.getKey());
      } catch (NumberFormatException ex) {
        throw new IllegalArgumentException("id2label key '" + e.getKey() + "' is not an integer id", ex);
      }
      if (!e.getValue().isTextual()) {
        throw new IllegalArgumentException("id2label[" + id + "] must be a string, got " + e.getValue());
      }
      byId.put(id, e.getValue().textValue());
    }
    List<String> labels = new ArrayList<>();
    for (Map.Entry<Integer, String> e : byId.entrySet()) {
      if (e.getKey() != labels.size()) {
        throw new IllegalArgumentException("id2label ids must be 0.." + (byId.size() - 1) + " (got " + byId.keySet()
            + ")");
      }
      labels.add(e.getValue());
    }
    return labels;
  }

  private static void checkLabel2Id(JsonNode label2id, List<String> labels) {
    if (label2id == null || label2id.isNull()) {
      return;
    }
    for (int i = 0; i < labels.size(); i++) {
      JsonNode id = label2id.get(labels.get(i));
      if (id == null || !id.canConvertToInt() || id.asInt() != i) {
        throw new IllegalArgumentException("label2id does not match id2label at '" + labels.get(i) + "' (id " + i + ")");
      }
    }
  }

  private static Integer intOrNull(JsonNode v, String key) {
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.canConvertToInt() || v.isFloatingPointNumber()) {
      throw new IllegalArgumentException(key + " must be an integer, got " + v);
    }
    return v.asInt();
  }
}
