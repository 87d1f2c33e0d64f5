package ai.lmtrain.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/** {@code --json} output: exactly one JSON object on stdout. */
final class JsonOut {
  static final ObjectMapper MAPPER = new ObjectMapper();

  private JsonOut() {}

  static void print(Object value) {
    try {
      System.out.println(MAPPER.writeValueAsString(value));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise the result", e);
    }
  }
}
