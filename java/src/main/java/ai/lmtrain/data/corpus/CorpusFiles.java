package ai.lmtrain.data.corpus;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/** Expands the {@code --input} arguments: files, and globs ({@code *}, {@code ?}, {@code [..]}, {@code {a,b}}, {@code **}). */
public final class CorpusFiles {
  private CorpusFiles() {}

  /**
   * The files named by {@code arguments}, in order: a plain path as given, a glob's matches sorted
   * by path; each file once.
   *
   * @throws CorpusException for a missing file, a folder, or a glob that matches no file
   */
  public static List<Path> expand(List<String> arguments) throws CorpusException {
    Set<Path> files = new LinkedHashSet<>();
    for (String arg : arguments) {
      if (!isGlob(arg)) {
        Path p = Path.of(arg);
        if (Files.isDirectory(p)) {
          throw new CorpusException(arg + ": is a folder; give files or a glob such as " + p.resolve("*.jsonl"));
        }
        if (!Files.isRegularFile(p)) {
          throw new CorpusException(arg + ": no such file");
        }
        files.add(p);
        continue;
      }
      List<Path> matches = glob(arg);
      if (matches.isEmpty()) {
        throw new CorpusException(arg + ": the pattern matches no file");
      }
      files.addAll(matches);
    }
    return List.copyOf(files);
  }

  private static boolean isGlob(String s) {
    return s.indexOf('*') >= 0 || s.indexOf('?') >= 0 || s.indexOf('[') >= 0 || s.indexOf('{') >= 0;
  }

  /** Matches below the longest leading run of folders without glob characters. */
  private static List<Path> glob(String pattern) throws CorpusException {
    String[] parts = pattern.split("/", -1);
    int fixed = 0;
    while (fixed < parts.length - 1 && !isGlob(parts[fixed])) {
      fixed++;
    }
    String baseText = String.join("/", java.util.Arrays.copyOfRange(parts, 0, fixed));
    Path base = baseText.isEmpty() ? Path.of(pattern.startsWith("/") ? "/" : ".") : Path.of(baseText);
    String rest = String.join("/", java.util.Arrays.copyOfRange(parts, fixed, parts.length));
    if (!Files.isDirectory(base)) {
      return List.of();
    }
    PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + rest);
    int depth = rest.contains("**") ? Integer.MAX_VALUE : parts.length - fixed;
    List<Path> out = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(base, depth)) {
      walk.filter(Files::isRegularFile).filter(p -> matcher.matches(base.relativize(p)))
          .map(p -> baseText.isEmpty() && !pattern.startsWith("/") ? base.relativize(p) : p).sorted()
          .forEach(out::add);
    } catch (IOException e) {
      throw new CorpusException(pattern + ": cannot list " + base + " (" + e.getMessage() + ")", e);
    }
    return out;
  }
}
