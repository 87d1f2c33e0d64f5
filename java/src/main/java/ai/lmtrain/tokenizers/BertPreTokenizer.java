package ai.lmtrain.tokenizers;

/**
 * BERT's pre-tokenizer (HF {@code BertPreTokenizer}): split on white space and isolate every
 * punctuation character (ASCII 33-47, 58-64, 91-96, 123-126 and Unicode categories P*).
 */
public final class BertPreTokenizer {

  private BertPreTokenizer() {}

  /** Receives one word {@code [start, end)}. */
  interface WordSink {
    void word(int start, int end);
  }

  /** Reports each word of {@code text}, in order. */
  static void split(String text, WordSink sink) {
    int wordStart = -1;
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      int next = i + Character.charCount(cp);
      if (Gpt2PreTokenizer.isWhiteSpace(cp) || isPunctuation(cp)) {
        if (wordStart >= 0) {
          sink.word(wordStart, i);
          wordStart = -1;
        }
        if (!Gpt2PreTokenizer.isWhiteSpace(cp)) {
          sink.word(i, next);
        }
      } else if (wordStart < 0) {
        wordStart = i;
      }
      i = next;
    }
    if (wordStart >= 0) {
      sink.word(wordStart, text.length());
    }
  }

  /** BERT's punctuation test. */
  public static boolean isPunctuation(int cp) {
    if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
      return true;
    }
    switch (Character.getType(cp)) {
      case Character.CONNECTOR_PUNCTUATION:
      case Character.DASH_PUNCTUATION:
      case Character.START_PUNCTUATION:
      case Character.END_PUNCTUATION:
      case Character.INITIAL_QUOTE_PUNCTUATION:
      case Character.FINAL_QUOTE_PUNCTUATION:
      case Character.OTHER_PUNCTUATION:
        return true;
      default:
        return false;
    }
  }
}
