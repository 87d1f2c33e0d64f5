package ai.lmtrain.tokenizers;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A dense id &lt;-&gt; token table plus the added tokens that are matched literally in text.
 * Immutable.
 */
final class Vocabulary {

  private final String[] tokens;
  private final Map<String, Integer> ids;
  private final List<AddedToken> added;
  private final boolean[] special;
  private final boolean[] isAdded;

  /** Receives the pieces of a text split around added tokens. */
  interface SegmentVisitor {
    /** Ordinary text {@code [start, end)}. */
    void text(int start, int end);

    /** An added token found at {@code start}. */
    void added(AddedToken token, int start);
  }

  /**
   * Builds a vocabulary from a token -&gt; id map (ids must be exactly 0..n-1) and added tokens
   * (whose ids may extend the map or repeat entries of it).
   *
   * @param source the file named in error messages
   */
  static Vocabulary of(Map<String, Integer> map, List<AddedToken> addedTokens, String source) {
    // Ids run 0..n-1 without gaps, so no id can reach the number of entries: checked before the
    // table is allocated (a crafted id of 2^31-1 must not allocate 8 GB or overflow the size).
    long entries = (long) map.size() + addedTokens.size();
    int size = map.size();
    for (AddedToken t : addedTokens) {
      if (t.id() < 0 || t.id() >= entries) {
        throw new TokenizerException(source + ": added token " + t.content() + " has id " + t.id() + ", expected 0.."
            + (entries - 1) + " (ids run from 0 without gaps)");
      }
      size = Math.max(size, t.id() + 1);
    }
    String[] tokens = new String[size];
    for (Map.Entry<String, Integer> e : map.entrySet()) {
      place(tokens, e.getKey(), e.getValue(), source);
    }
    for (AddedToken t : addedTokens) {
      if (tokens[t.id()] != null && !tokens[t.id()].equals(t.content())) {
        throw new TokenizerException(source + ": added token " + t.content() + " has id " + t.id()
            + " which already belongs to " + tokens[t.id()]);
      }
      place(tokens, t.content(), t.id(), source);
    }
    for (int i = 0; i < size; i++) {
      if (tokens[i] == null) {
        throw new TokenizerException(source + ": token ids must be 0.." + (size - 1) + " without gaps, id " + i + " is missing");
      }
    }
    return new Vocabulary(tokens, addedTokens);
  }

  private static void place(String[] tokens, String token, Integer id, String source) {
    if (id == null || id < 0 || id >= tokens.length) {
      throw new TokenizerException(source + ": token " + token + " has id " + id + ", expected 0.." + (tokens.length - 1));
    }
    if (tokens[id] != null && !tokens[id].equals(token)) {
      throw new TokenizerException(source + ": id " + id + " is used by both " + tokens[id] + " and " + token);
    }
    tokens[id] = token;
  }

  private Vocabulary(String[] tokens, List<AddedToken> addedTokens) {
    this.tokens = tokens;
    this.ids = new HashMap<>(tokens.length * 2);
    for (int i = 0; i < tokens.length; i++) {
      ids.put(tokens[i], i);
    }
    List<AddedToken> sorted = new ArrayList<>(addedTokens);
    sorted.sort(Comparator.comparingInt(AddedToken::id));
    this.added = List.copyOf(sorted);
    this.special = new boolean[tokens.length];
    this.isAdded = new boolean[tokens.length];
    for (AddedToken t : added) {
      special[t.id()] = t.special();
      isAdded[t.id()] = true;
    }
  }

  int size() {
    return tokens.length;
  }

  /** Id of a token, or -1. */
  int idOf(String token) {
    Integer id = ids.get(token);
    return id == null ? -1 : id;
  }

  OptionalInt id(String token) {
    Integer id = ids.get(token);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  String token(int id) {
    if (id < 0 || id >= tokens.length) {
      throw new TokenizerException("token id " + id + " is outside the vocabulary [0, " + tokens.length + ")");
    }
    return tokens[id];
  }

  /** The tokens in id order (a copy). */
  String[] tokens() {
    return tokens.clone();
  }

  List<AddedToken> added() {
    return added;
  }

  boolean isSpecial(int id) {
    return special[id];
  }

  /** Whether {@code id} is an added token (decoded verbatim rather than by the model). */
  boolean isAdded(int id) {
    return isAdded[id];
  }

  /**
   * Splits {@code text} around occurrences of added tokens (leftmost first, longest on ties) and
   * reports the pieces in order.
   */
  void split(String text, SegmentVisitor visitor) {
    int k = added.size();
    if (k == 0) {
      if (!text.isEmpty()) {
        visitor.text(0, text.length());
      }
      return;
    }
    int[] next = new int[k];
    for (int i = 0; i < k; i++) {
      next[i] = text.indexOf(added.get(i).content());
    }
    int pos = 0;
    while (true) {
      int best = -1;
      for (int i = 0; i < k; i++) {
        if (next[i] >= 0 && next[i] < pos) {
          next[i] = text.indexOf(added.get(i).content(), pos);
        }
        if (next[i] >= 0 && (best < 0 || next[i] < next[best]
            || (next[i] == next[best] && added.get(i).content().length() > added.get(best).content().length()))) {
          best = i;
        }
      }
      if (best < 0) {
        break;
      }
      int at = next[best];
      if (at > pos) {
        visitor.text(pos, at);
      }
      visitor.added(added.get(best), at);
      pos = at + added.get(best).content().length();
    }
    if (pos < text.length()) {
      visitor.text(pos, text.length());
    }
  }
}
