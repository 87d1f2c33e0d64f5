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
 */
public final class ParameterTable {

  /** One parameter: its checkpoint name, shape, element offset in the buffers, and decay flag. */
  public record Entry(String name, long[] shape, long offset, boolean decay) {
    /** Number of elements. */
    public long numel() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }
  }

  private final List<Entry> entries = new ArrayList<>();
  private final Map<String, Entry> byName = new LinkedHashMap<>();
  private long total;

  /**
   * Appends a parameter. Offsets are aligned to 64 elements so every view starts on a 256-byte
   * boundary for F32 (vectorised kernels and coalesced GPU access).
   */
  public ParameterTable add(String name, boolean decay, long... shape) {
    return append(name, decay, true, shape);
  }

  /**
   * Appends a parameter directly after the previous one, with no alignment gap, so that a run of
   * packed entries forms one contiguous block (e.g. BERT's query, key and value weights, used as
   * one (3H, H) matrix by a single matmul).
   */
  public ParameterTable addPacked(String name, boolean decay, long... shape) {
    return append(name, decay, false, shape);
  }

  private ParameterTable append(String name, boolean decay, boolean align, long... shape) {
    if (byName.containsKey(name)) {
      throw new IllegalArgumentException("duplicate parameter name '" + name + "'");
    }
    for (long d : shape) {
      if (d <= 0) {
        throw new IllegalArgumentException("parameter '" + name + "' has a non-positive dimension " + Tensor.shapeString(shape));
      }
    }
    long offset = align ? (total + 63) / 64 * 64 : total;
    Entry e = new Entry(name, shape.clone(), offset, decay);
    entries.add(e);
    byName.put(name, e);
    total = offset + e.numel();
    return this;
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

  /** Buffer length in elements (including alignment gaps). */
  public long totalElements() {
    return total;
  }

  /** Number of parameters (sum of entry sizes, without gaps). */
  public long parameterCount() {
    long n = 0;
    for (Entry e : entries) {
      n += e.numel();
    }
    return n;
  }

  /** A 0/1 mask over the whole buffer: 1 on the entries {@code decays} accepts (gaps are 0). */
  public byte[] decayMask(java.util.function.Predicate<Entry> decays) {
    if (total > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("decay mask of " + total + " elements is too large for one array");
    }
    byte[] mask = new byte[(int) total];
    for (Entry e : entries) {
      if (decays.test(e)) {
        java.util.Arrays.fill(mask, (int) e.offset(), (int) (e.offset() + e.numel()), (byte) 1);
      }
    }
    return mask;
  }
}
