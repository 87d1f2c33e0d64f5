package ai.lmtrain.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Labelled CSV, TSV and JSONL files: real quoting, pairs, label arrays, and one clear error per problem. */
class LabelledTextFileTest {
  @TempDir Path dir;

  private Path file(String name, String content) throws Exception {
    Path f = dir.resolve(name);
    Files.writeString(f, content, StandardCharsets.UTF_8);
    return f;
  }

  @Test
  void csvHandlesQuotesCommasEmbeddedNewlinesAndPairs() throws Exception {
    Path f = file("a.csv", "\uFEFFid,sentence1,sentence2,label\n"
        + "1,\"Hello, world\",\"He said \"\"hi\"\"\",positive\n"
        + "\n"
        + "2,\"two\nlines\",plain, negative \n"
        + "3,third,x,positive\n");
    List<LabelledText> rows = LabelledTextFile.read(f, "sentence1", "sentence2", "label");
    assertEquals(3, rows.size());
    assertEquals(new LabelledText("Hello, world", "He said \"hi\"", List.of("positive"), f + ":2"), rows.get(0));
    assertEquals("two\nlines", rows.get(1).text());
    assertEquals(List.of("negative"), rows.get(1).labels());
    assertEquals(f + ":4", rows.get(1).source());
    assertEquals(f + ":6", rows.get(2).source()); // after the record spanning lines 4-5
  }

  @Test
  void tsvAndJsonLines() throws Exception {
    Path tsv = file("a.tsv", "text\tlabel\na b, c\t3\n");
    assertEquals(List.of(new LabelledText("a b, c", null, List.of("3"), tsv + ":2")),
        LabelledTextFile.read(tsv, "text", null, "label"));
    Path jsonl = file("a.jsonl", "{\"t\": \"x\", \"l\": \"pos\"}\n\n{\"t\": \"y\", \"l\": 2}\n"
        + "{\"t\": \"z\", \"l\": [\"a\", \"b\"]}\n{\"t\": \"w\", \"l\": [0.5, -1]}\n");
    List<LabelledText> rows = LabelledTextFile.read(jsonl, "t", null, "l");
    assertEquals(List.of("pos"), rows.get(0).labels());
    assertEquals(List.of("2"), rows.get(1).labels());
    assertEquals(List.of("a", "b"), rows.get(2).labels());
    assertEquals(List.of("0.5", "-1"), rows.get(3).labels());
    assertEquals(jsonl + ":3", rows.get(1).source());
  }

  private void fails(Path f, String column, String expected) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LabelledTextFile.read(f, "text", null, column));
    assertEquals(expected, e.getMessage());
  }

  @Test
  void badInputGivesOneClearError() throws Exception {
    fails(file("m.csv", "text,label\nx,y\n"), "category", dir.resolve("m.csv")
        + ": no column 'category' (the header names text, label)");
    fails(file("e.csv", ""), "label", dir.resolve("e.csv") + ": no header row (expected the column names on line 1)");
    fails(file("h.csv", "text,label\n"), "label", dir.resolve("h.csv") + ": no examples (the file has no data rows)");
    fails(file("n.csv", "text,label\nx,y\nonly one field\n"), "label", dir.resolve("n.csv")
        + ":3: 1 fields, but the header names 2 columns");
    fails(file("b.csv", "text,label\nx,\n"), "label", dir.resolve("b.csv")
        + ":2: column 'label' is empty (expected a label)");
    fails(file("q.csv", "text,label\n\"unterminated,y\n"), "label", dir.resolve("q.csv")
        + ":3: not valid CSV: Missing closing quote for value");
    fails(file("k.jsonl", "{\"text\": \"x\"}\n"), "label", dir.resolve("k.jsonl") + ":1: no key 'label' (the object"
        + " has keys text)");
    fails(file("j.jsonl", "{\"text\": \"x\", \"label\": 1}\n{oops\n"), "label", dir.resolve("j.jsonl")
        + ":2: not valid JSON: Unexpected character ('o' (code 111)): was expecting double-quote to start field name");
    fails(file("o.jsonl", "{\"text\": \"x\", \"label\": {\"a\": 1}}\n"), "label", dir.resolve("o.jsonl")
        + ":1: 'label' must be a string, a number or an array of them, got {\"a\":1}");
    fails(file("x.txt", "text,label\n"), "label", dir.resolve("x.txt")
        + ": unknown format (expected a .csv, .tsv or .jsonl file)");
    Path latin1 = dir.resolve("l.csv");
    Files.write(latin1, new byte[] {'t', 'e', 'x', 't', ',', 'l', 'a', 'b', 'e', 'l', '\n', (byte) 0xe9, ',', 'y', '\n'});
    IllegalArgumentException utf8 = assertThrows(IllegalArgumentException.class,
        () -> LabelledTextFile.read(latin1, "text", null, "label"));
    assertTrue(utf8.getMessage().startsWith(latin1.toString()) && utf8.getMessage().endsWith("not valid UTF-8"),
        utf8.getMessage());
    assertThrows(NoSuchFileException.class, () -> LabelledTextFile.read(dir.resolve("absent.csv"), "t", null, "l"));
  }
}
