package ai.lmtrain.io;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The content of a safetensors file: its metadata and its tensors in data-offset order. Tensor
 * data are read-only views of a memory mapping; nothing is read from disk until touched, so
 * opening a 500 MB checkpoint is cheap. The mapping stays valid after the file is replaced or
 * deleted (POSIX semantics) until the views are garbage-collected.
 *
 * @param path the file that was read
 * @param metadata the {@code __metadata__} map (empty when absent)
 * @param tensors name to tensor, in data-offset order
 */
public record SafeTensorsFile(Path path, Map<String, String> metadata, Map<String, TensorData> tensors) {
  /** Makes the maps unmodifiable, keeping their order. */
  public SafeTensorsFile {
    metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
  }

  /** True when the file holds a tensor named {@code name}. */
  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  /**
   * The tensor named {@code name}.
   *
   * @throws IllegalArgumentException naming the file and the missing tensor
   */
  public TensorData tensor(String name) {
    TensorData tensor = tensors.get(name);
    if (tensor == null) {
      throw new IllegalArgumentException(path + ": no tensor named '" + name + "' (the file has "
          + tensors.size() + " tensors)");
    }
    return tensor;
  }
}
