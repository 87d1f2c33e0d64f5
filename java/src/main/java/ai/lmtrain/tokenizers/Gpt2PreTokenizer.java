package ai.lmtrain.tokenizers;

/**
 * GPT-2's pre-tokenizer, hand-written for speed but exactly equivalent to the regex
 * {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+} with Java's
 * {@code UNICODE_CHARACTER_CLASS} ({@code \s} = Unicode White_Space). Works on code points.
 */
final class Gpt2PreTokenizer {

  static final int LETTER = 0;
  static final int NUMBER = 1;
  static final int SPACE = 2;
  static final int OTHER = 3;

  private static final byte[] ASCII = new byte[128];

  static {
    for (int c = 0; c < 128; c++) {
      ASCII[c] = (byte) classifySlow(c);
    }
  }

  private Gpt2PreTokenizer() {}

  /** The regex class of a code point: {@link #LETTER}, {@link #NUMBER}, {@link #SPACE} or {@link #OTHER}. */
  static int classify(int cp) {
    return cp < 128 ? ASCII[cp] : classifySlow(cp);
  }

  private static int classifySlow(int cp) {
    int type = Character.getType(cp);
    switch (type) {
      case Character.UPPERCASE_LETTER:
      case Character.LOWERCASE_LETTER:
      case Character.TITLECASE_LETTER:
      case Character.MODIFIER_LETTER:
      case Character.OTHER_LETTER:
        return LETTER;
      case Character.DECIMAL_DIGIT_NUMBER:
      case Character.LETTER_NUMBER:
      case Character.OTHER_NUMBER:
        return NUMBER;
      default:
        return isWhiteSpace(cp, type) ? SPACE : OTHER;
    }
  }

  /** Unicode White_Space, as Java's {@code \s} under UNICODE_CHARACTER_CLASS. */
  static boolean isWhiteSpace(int cp) {
    return isWhiteSpace(cp, Character.getType(cp));
  }

  private static boolean isWhiteSpace(int cp, int type) {
    return (cp >= 0x9 && cp <= 0xD) || cp == 0x85 || type == Character.SPACE_SEPARATOR
        || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR;
  }

  private static int classAt(String s, int i) {
    char c = s.charAt(i);
    return c < 128 ? ASCII[c] : classifySlow(s.codePointAt(i));
  }

  private static int width(String s, int i) {
    return Character.isHighSurrogate(s.charAt(i)) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1)) ? 2 : 1;
  }

  /** End of the run of code points of class {@code cls} starting at {@code i}. */
  private static int run(String s, int i, int end, int cls) {
    while (i < end) {
      char c = s.charAt(i);
      if (c < 128) { // most text: one table lookup per char
        if (ASCII[c] != cls) {
          break;
        }
        i++;
      } else {
        int cp = s.codePointAt(i);
        if (classifySlow(cp) != cls) {
          break;
        }
        i += Character.charCount(cp);
      }
    }
    return i;
  }

  /**
   * The end (exclusive) of the pre-token starting at {@code pos}, considering only
   * {@code text[pos, end)}. {@code pos < end}.
   */
  static int next(String s, int pos, int end) {
    char c = s.charAt(pos);
    if (c == '\'' && pos + 1 < end) {
      int len = contraction(s, pos + 1, end);
      if (len > 0) {
        return pos + 1 + len;
      }
    }
    int cls = classAt(s, pos);
    if (c == ' ' && pos + 1 < end) {
      int nextCls = classAt(s, pos + 1);
      if (nextCls != SPACE) {
        return run(s, pos + 1, end, nextCls);
      }
    }
    if (cls != SPACE) {
      return run(s, pos + width(s, pos), end, cls);
    }
    int stop = run(s, pos, end, SPACE);
    if (stop == end) {
      return stop;
    }
    // \s+(?!\S): give back the last white-space code point unless that empties the match (then \s+).
    int last = Character.isLowSurrogate(s.charAt(stop - 1)) && stop - 2 >= pos ? stop - 2 : stop - 1;
    return last > pos ? last : stop;
  }

  private static int contraction(String s, int i, int end) {
    char a = s.charAt(i);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') {
      return 1;
    }
    if (i + 1 < end) {
      char b = s.charAt(i + 1);
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
        return 2;
      }
    }
    return 0;
  }
}
