package ai.lmtrain.tokenizers;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's reversible byte &lt;-&gt; unicode mapping: printable bytes ({@code !..~},
 * {@code ¡..¬}, {@code ®..ÿ}) map to themselves, the other 68 bytes in order to U+0100 + n (space
 * becomes {@code Ġ}, newline {@code Ċ}), so every byte string is a printable token string.
 */
public final class ByteLevel {

  private static final char[] BYTE_TO_CHAR = new char[256];
  private static final int[] CHAR_TO_BYTE = new int[512];

  static {
    java.util.Arrays.fill(CHAR_TO_BYTE, -1);
    int n = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      char c = printable ? (char) b : (char) (256 + n++);
      BYTE_TO_CHAR[b] = c;
      CHAR_TO_BYTE[c] = b;
    }
  }

  private ByteLevel() {}

  /** The character standing for byte {@code b} (0..255). */
  public static char charOf(int b) {
    return BYTE_TO_CHAR[b & 0xFF];
  }

  /** The byte a mapped character stands for, or -1 if {@code c} is not in the mapping. */
  public static int byteOf(char c) {
    return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
  }

  /** Maps the UTF-8 bytes of {@code text} to their byte-level characters. */
  public static String encode(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    char[] out = new char[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
    }
    return new String(out);
  }

  /**
   * Appends the bytes a byte-level token string stands for.
   *
   * @throws TokenizerException if a character is not a byte-level character
   */
  static void appendBytes(String token, java.io.ByteArrayOutputStream out) {
    for (int i = 0; i < token.length(); i++) {
      int b = byteOf(token.charAt(i));
      if (b < 0) {
        throw new TokenizerException("token " + token + " is not a byte-level token (char U+"
            + Integer.toHexString(token.charAt(i)) + ")");
      }
      out.write(b);
    }
  }

  /** All 256 byte-level characters, in byte order. */
  public static String alphabet() {
    return new String(BYTE_TO_CHAR);
  }
}
