package ai.lmtrain.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/** Runs the {@code lmtrain} command line in-process for tests, capturing stdout and stderr. */
final class CliRunner {
  private CliRunner() {}

  /** A finished command: its exit code and what it printed. */
  record Outcome(int exit, String out, String err) {}

  static Outcome run(String... args) {
    PrintStream stdout = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      var cl = Main.commandLine();
      cl.setErr(new PrintWriter(err, true));
      int exit = cl.execute(args);
      return new Outcome(exit, out.toString(StandardCharsets.UTF_8), err.toString());
    } finally {
      System.setOut(stdout);
    }
  }
}
