package ai.lmtrain.tokenizers;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns raw {@link TokenSequence}s into {@link Encoding}s: truncation (longest-first for pairs),
 * overflow chunks with stride, special tokens from the {@link PostProcessor}, type ids, masks and
 * padding. The HF semantics of {@code tokenizer(text, text_pair, ...)}.
 */
final class EncodingAssembler {

  private EncodingAssembler() {}

  /** Encodes one text, or a pair when {@code pair != null}, without batch padding. */
  static Encoding encode(Tokenizer tok, String text, String pair, EncodeOptions o) {
    TokenSequence a = tok.tokenize(text, o.returnOffsets());
    TokenSequence b = pair == null ? null : tok.tokenize(pair, o.returnOffsets());
    PostProcessor pp = o.addSpecialTokens() ? tok.postProcessor() : PostProcessor.NONE;
    int padId = o.padding() == EncodeOptions.Padding.NONE ? -1 : padId(tok, o);
    if (!o.truncation()) {
      return pad(tok, assemble(a, b, pp, List.of()), o.padding() == EncodeOptions.Padding.MAX_LENGTH ? o.maxLength() : 0, padId);
    }
    int budget = o.maxLength() - pp.added(b != null);
    if (budget <= 0) {
      throw new TokenizerException("maxLength " + o.maxLength() + " leaves no room for tokens next to "
          + pp.added(b != null) + " special tokens");
    }
    int target = o.padding() == EncodeOptions.Padding.MAX_LENGTH ? o.maxLength() : 0;
    if (b == null) {
      if (!o.returnOverflowing() || a.length() <= budget) {
        return pad(tok, assemble(a.slice(0, Math.min(budget, a.length())), null, pp, List.of()), target, padId);
      }
      if (o.stride() >= budget) {
        throw new TokenizerException("stride " + o.stride() + " must be smaller than the " + budget
            + " tokens each chunk holds");
      }
      List<Encoding> rest = new ArrayList<>();
      for (int s = budget - o.stride(); s + o.stride() < a.length(); s += budget - o.stride()) {
        rest.add(pad(tok, assemble(a.slice(s, Math.min(s + budget, a.length())), null, pp, List.of()), target, padId));
      }
      return pad(tok, assemble(a.slice(0, budget), null, pp, rest), target, padId);
    }
    if (o.returnOverflowing()) {
      throw new TokenizerException("overflowing tokens are only supported for single texts, not pairs");
    }
    int[] keep = longestFirst(a.length(), b.length(), budget);
    return pad(tok, assemble(a.slice(0, keep[0]), b.slice(0, keep[1]), pp, List.of()), target, padId);
  }

  /** Encodes a batch: rows (overflow chunks flattened), padded to the longest row if asked. */
  static BatchEncoding encodeBatch(Tokenizer tok, List<String> texts, List<String> pairs, EncodeOptions o) {
    if (pairs != null && pairs.size() != texts.size()) {
      throw new TokenizerException("got " + texts.size() + " texts but " + pairs.size() + " pair texts");
    }
    List<Encoding> rows = new ArrayList<>();
    List<Integer> mapping = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      Encoding e = encode(tok, texts.get(i), pairs == null ? null : pairs.get(i), o);
      rows.add(e);
      mapping.add(i);
      for (Encoding chunk : e.overflowing()) {
        rows.add(chunk);
        mapping.add(i);
      }
    }
    if (o.padding() == EncodeOptions.Padding.LONGEST) {
      int longest = rows.stream().mapToInt(Encoding::length).max().orElse(0);
      int padId = padId(tok, o);
      rows.replaceAll(e -> pad(tok, e, longest, padId));
    }
    return new BatchEncoding(List.copyOf(rows), mapping.stream().mapToInt(Integer::intValue).toArray());
  }

  /** HF's longest-first split of {@code budget} between two sequences: {keepA, keepB}. */
  static int[] longestFirst(int n1, int n2, int budget) {
    if (n1 + n2 <= budget) {
      return new int[] {n1, n2};
    }
    boolean swap = n1 > n2;
    int small = swap ? n2 : n1;
    int large = swap ? n1 : n2;
    int keepSmall = small;
    int keepLarge;
    if (small > budget) {
      keepLarge = small;
    } else {
      keepLarge = Math.max(small, budget - small);
    }
    if (keepSmall + keepLarge > budget) {
      keepSmall = budget / 2;
      keepLarge = keepSmall + budget % 2;
    }
    keepLarge = Math.min(keepLarge, large);
    return swap ? new int[] {keepLarge, keepSmall} : new int[] {keepSmall, keepLarge};
  }

  private static int padId(Tokenizer tok, EncodeOptions o) {
    if (o.padId() >= 0) {
      return o.padId();
    }
    String pad = tok.specialTokens().pad();
    if (pad == null) {
      throw new TokenizerException("padding needs a pad id: this tokenizer has no pad token "
          + "(GPT-2 convention: pass the <|endoftext|> id)");
    }
    return tok.tokenToId(pad).orElseThrow(() -> new TokenizerException("pad token " + pad + " is not in the vocabulary"));
  }

  private static Encoding assemble(TokenSequence a, TokenSequence b, PostProcessor pp, List<Encoding> overflow) {
    int n = a.length() + (b == null ? 0 : b.length()) + pp.added(b != null);
    Parts p = new Parts(n, a.hasOffsets());
    if (pp.cls() != null) {
      p.special(pp.clsId(), pp.cls(), 0);
    }
    p.sequence(a, 0);
    if (pp.sep() != null) {
      p.special(pp.sepId(), pp.sep(), 0);
    }
    if (b != null) {
      p.sequence(b, 1);
      if (pp.sep() != null) {
        p.special(pp.sepId(), pp.sep(), 1);
      }
    }
    return p.build(overflow);
  }

  private static Encoding pad(Tokenizer tok, Encoding e, int length, int padId) {
    int n = e.length();
    if (length <= n) {
      return e;
    }
    Parts p = new Parts(length, e.starts() != null);
    for (int i = 0; i < n; i++) {
      p.put(e.ids()[i], e.tokens()[i], e.typeIds()[i], 1, e.specialTokensMask()[i],
          e.starts() == null ? 0 : e.starts()[i], e.ends() == null ? 0 : e.ends()[i]);
    }
    for (int i = n; i < length; i++) {
      p.put(padId, tok.idToToken(padId), 0, 0, 1, 0, 0);
    }
    return p.build(e.overflowing());
  }

  /** Fixed-size array filler for one encoding. */
  private static final class Parts {
    final int[] ids;
    final int[] types;
    final int[] attention;
    final int[] special;
    final String[] tokens;
    final int[] starts;
    final int[] ends;
    int i;

    Parts(int n, boolean offsets) {
      ids = new int[n];
      types = new int[n];
      attention = new int[n];
      special = new int[n];
      tokens = new String[n];
      starts = offsets ? new int[n] : null;
      ends = offsets ? new int[n] : null;
    }

    void put(int id, String token, int type, int att, int spec, int start, int end) {
      ids[i] = id;
      tokens[i] = token;
      types[i] = type;
      attention[i] = att;
      special[i] = spec;
      if (starts != null) {
        starts[i] = start;
        ends[i] = end;
      }
      i++;
    }

    void special(int id, String token, int type) {
      put(id, token, type, 1, 1, 0, 0);
    }

    void sequence(TokenSequence s, int type) {
      for (int k = 0; k < s.length(); k++) {
        put(s.ids()[k], s.tokens()[k], type, 1, s.special()[k],
            s.hasOffsets() ? s.starts()[k] : 0, s.hasOffsets() ? s.ends()[k] : 0);
      }
    }

    Encoding build(List<Encoding> overflow) {
      return new Encoding(ids, types, attention, special, tokens, starts, ends, overflow);
    }
  }
}
