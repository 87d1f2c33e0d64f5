package ai.lmtrain.tokenizers;

import java.text.Normalizer;
import java.util.Arrays;
import java.util.Locale;

/**
 * BERT's normalizer (HF {@code BertNormalizer}): clean text (drop NUL, U+FFFD and control
 * characters; white space becomes a space), put spaces around CJK ideographs, strip accents (NFD,
 * drop non-spacing marks) and lowercase. Each step is switchable; accents are stripped when
 * {@code stripAccents} is {@code null} and {@code lowercase} is on, as HF does.
 *
 * @param cleanText drop control characters and map white space to ' '
 * @param handleChineseChars surround CJK ideographs with spaces
 * @param stripAccents strip accents; {@code null} = follow {@code lowercase}
 * @param lowercase lowercase
 */
public record BertNormalizer(boolean cleanText, boolean handleChineseChars, Boolean stripAccents, boolean lowercase) {

  /** bert-base-uncased's settings: everything on, accents follow lowercasing. */
  public static BertNormalizer uncased() {
    return new BertNormalizer(true, true, null, true);
  }

  /** Normalized text with, for each of its chars, the original char range it came from. */
  record Normalized(String text, int[] starts, int[] ends) {}

  /** Normalizes {@code text[from, to)}; offsets in the result point into {@code text}. */
  Normalized normalize(String text, int from, int to) {
    boolean strip = stripAccents != null ? stripAccents : lowercase;
    StringBuilder out = new StringBuilder(to - from + 8);
    int[] starts = new int[(to - from) * 2 + 8];
    int[] ends = new int[starts.length];
    int n = 0;
    for (int i = from; i < to; ) {
      int cp = text.codePointAt(i);
      int end = i + Character.charCount(cp);
      String piece = piece(cp, strip);
      int need = n + piece.length();
      if (need > starts.length) {
        starts = Arrays.copyOf(starts, need * 2);
        ends = Arrays.copyOf(ends, need * 2);
      }
      out.append(piece);
      for (int k = 0; k < piece.length(); k++) {
        starts[n] = i;
        ends[n] = end;
        n++;
      }
      i = end;
    }
    return new Normalized(out.toString(), Arrays.copyOf(starts, n), Arrays.copyOf(ends, n));
  }

  /** Normalizes a whole text (no offsets). */
  public String normalize(String text) {
    return normalize(text, 0, text.length()).text();
  }

  private String piece(int cp, boolean strip) {
    if (cleanText) {
      if (cp == 0 || cp == 0xFFFD || isControl(cp)) {
        return "";
      }
      if (Gpt2PreTokenizer.isWhiteSpace(cp)) {
        return " ";
      }
    }
    if (handleChineseChars && isChineseChar(cp)) {
      return " " + Character.toString(cp) + " ";
    }
    if (cp < 128) {
      char c = (char) cp;
      return String.valueOf(lowercase && c >= 'A' && c <= 'Z' ? (char) (c + 32) : c);
    }
    String s = Character.toString(cp);
    if (strip) {
      String nfd = Normalizer.normalize(s, Normalizer.Form.NFD);
      StringBuilder kept = new StringBuilder(nfd.length());
      nfd.codePoints().filter(c -> Character.getType(c) != Character.NON_SPACING_MARK).forEach(kept::appendCodePoint);
      s = kept.toString();
    }
    return lowercase ? s.toLowerCase(Locale.ROOT) : s;
  }

  /** HF's {@code is_control}: categories Cc, Cf, Cn, Co, Cs except tab, newline and carriage return. */
  private static boolean isControl(int cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r') {
      return false;
    }
    int t = Character.getType(cp);
    return t == Character.CONTROL || t == Character.FORMAT || t == Character.UNASSIGNED
        || t == Character.PRIVATE_USE || t == Character.SURROGATE;
  }

  /** The CJK ideograph blocks BERT puts spaces around. */
  static boolean isChineseChar(int cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
        || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
        || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
  }
}
