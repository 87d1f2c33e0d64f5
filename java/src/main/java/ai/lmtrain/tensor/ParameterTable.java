package ai.lmtrain.tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ordered (name, shape) list that lays every parameter of a model out in one contiguous
 * buffer. Names are the Hugging Face checkpoint keys, so loading and saving are table lookups;
 * offsets (in elements) drive the views of the parameter, gradient and optimizer buffers alike.
 * Each entry also says whether AdamW's weight decay applies to it.
 *
 * <p>An entry may hold more rows in the buffer than in checkpoints ({@link #addPadded}): a
 * vocabulary padded to a multiple of 128 so that the output projection has GEMM-friendly sizes.
 * The padding rows follow the real ones, start at zero and stay zero (no token id selects them and
 * the loss masks their logits, so their gradients are exactly zero); checkpoints, parameter counts
 * and every view by name cover the real rows only.
 */
public final class ParameterTable {

  /**
   * One parameter: its checkpoint name and shape, element offset in the buffers, decay flag, and the
   * number of rows it occupies in the buffers ({@code shape[0]} unless padded).
   */
  public record Entry(String name, long[] shape, long offset, boolean decay, long storedRows) {
    /** Number of elements in checkpoints (the real rows). */
    public long numel() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }

    /** The shape in the buffers: {@link #shape()} with {@link #storedRows()} rows. */
    public long[] storedShape() {
      long[] s = shape.clone();
      s[0] = storedRows;
      return s;
    }

    /** Number of elements in the buffers, padding rows included. */
    public long storedNumel() {
      return numel() / shape[0] * storedRows;
    }
  }

  /** How an entry was appended, so that {@link #withoutPadding} can lay the same entries out again. */
  private record Append(String name, boolean decay, boolean align, long storedRows, long[] shape) {}

  private final List<Entry> entries = new ArrayList<>();
  private final List<Append> appends = new ArrayList<>();
  private final Map<String, Entry> byName = new LinkedHashMap<>();
  private long total;

  /**
   * Appends a parameter. Offsets are aligned to 64 elements so every view starts on a 256-byte
   * boundary for F32 (vectorised kernels and coalesced GPU access).
   */
  public ParameterTable add(String name, boolean decay, long... shape) {
    return append(new Append(name, decay, true, shape.length == 0 ? 1 : shape[0], shape));
  }

  /**
   * Appends a parameter whose first dimension is stored with {@code storedRows >= shape[0]} rows;
   * the rows past {@code shape[0]} are padding (see the class comment).
   */
  public ParameterTable addPadded(String name, boolean decay, long storedRows, long... shape) {
    if (shape.length == 0 || storedRows < shape[0]) {
      throw new IllegalArgumentException("parameter '" + name + "' of shape " + Tensor.shapeString(shape)
          + " cannot be stored in " + storedRows + " rows");
    }
    return append(new Append(name, decay, true, storedRows, shape));
  }

  /**
   * Appends a parameter directly after the previous one, with no alignment gap, so that a run of
   * packed entries forms one contiguous block (e.g. BERT's query, key and value weights, used as
   * one (3H, H) matrix by a single matmul).
   */
  public ParameterTable addPacked(String name, boolean decay, long... shape) {
    return append(new Append(name, decay, false, shape.length == 0 ? 1 : shape[0], shape));
  }

  private ParameterTable append(Append a) {
    if (byName.containsKey(a.name())) {
      throw new IllegalArgumentException("duplicate parameter name '" + a.name() + "'");
    }
    if (a.shape().length == 0) {
      throw new IllegalArgumentException("parameter '" + a.name() + "' has no dimensions");
    }
    for (long d : a.shape()) {
      if (d <= 0) {
        throw new IllegalArgumentException("parameter '" + a.name() + "' has a non-positive dimension "
            + Tensor.shapeString(a.shape()));
      }
    }
    long offset = a.align() ? (total + 63) / 64 * 64 : total;
    Entry e = new Entry(a.name(), a.shape().clone(), offset, a.decay(), a.storedRows());
    entries.add(e);
    appends.add(a);
    byName.put(a.name(), e);
    total = offset + e.storedNumel();
    return this;
  }

  /**
   * The same entries laid out with their checkpoint shapes (no padding rows): the flat layout in
   * which optimizer.safetensors stores the AdamW moments, which is also the layout of every
   * checkpoint written before vocabularies were padded.
   */
  public ParameterTable withoutPadding() {
    ParameterTable t = new ParameterTable();
    for (Append a : appends) {
      t.append(new Append(a.name(), a.decay(), a.align(), a.shape()[0], a.shape()));
    }
    return t;
  }

  /** Entries in layout order. */
  public List<Entry> entries() {
    return Collections.unmodifiableList(entries);
  }

  /** The entry called {@code name}; an error naming it if absent. */
  public Entry get(String name) {
    Entry e = byName.get(name);
    if (e == null) {
      throw new IllegalArgumentException("no parameter named '" + name + "'");
    }
    return e;
  }

  public boolean contains(String name) {
    return byName.containsKey(name);
  }

  /** Buffer length in elements (including alignment gaps and padding rows). */
  public long totalElements() {
    return total;
  }

  /** Number of parameters (sum of entry sizes, without gaps and padding rows). */
  public long parameterCount() {
    long n = 0;
    for (Entry e : entries) {
      n += e.numel();
    }
    return n;
  }
}
