package ai.lmtrain.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The subprocess protocol, with small stand-in scripts (needs a python3 on the PATH). */
class PeerScriptsTest {
  private static final ObjectNode SPEC = JsonNodeFactory.instance.objectNode().put("factor", 2.5);

  @TempDir static Path dir;

  @BeforeAll
  static void writeScripts() throws Exception {
    Files.writeString(dir.resolve("echo.py"), """
        import json, os, sys
        spec = json.load(sys.stdin)
        print("progress line", file=sys.stderr)
        print(json.dumps({"peer": "stand-in " + os.environ.get("OMP_NUM_THREADS", "-"),
                          "results": {"a": spec["factor"], "b": 1, "text": "x"}}))
        """);
    Files.writeString(dir.resolve("unavailable.py"), """
        import sys
        print("torch is not installed", file=sys.stderr)
        sys.exit(3)
        """);
    Files.writeString(dir.resolve("crash.py"), "raise RuntimeError('boom')\n");
    Files.writeString(dir.resolve("garbage.py"), "print('not json')\n");
  }

  private static boolean hasPython() {
    try {
      return new ProcessBuilder("python3", "-c", "pass").start().waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void resultsComeBackByCaseWithThreadsInTheEnvironment() {
    assumeTrue(hasPython(), "python3 is not on the PATH");
    StringWriter progress = new StringWriter();
    PeerScripts.Outcome o = new PeerScripts("python3", dir).run("echo.py", SPEC, 3, new PrintWriter(progress));
    assertNull(o.problem());
    assertEquals("stand-in 3", o.describe());
    assertEquals(2.5, o.value("a"), 0);
    assertEquals(1.0, o.value("b"), 0);
    assertTrue(Double.isNaN(o.value("text")), "non-numbers are ignored");
    assertTrue(Double.isNaN(o.value("absent")));
    assertTrue(progress.toString().contains("[peer] progress line"), progress.toString());
  }

  @Test
  void aPeerThatCannotRunGivesItsReasonAndNoFigures() {
    assumeTrue(hasPython(), "python3 is not on the PATH");
    PrintWriter quiet = new PrintWriter(new StringWriter());
    PeerScripts peers = new PeerScripts("python3", dir);
    PeerScripts.Outcome o = peers.run("unavailable.py", SPEC, 0, quiet);
    assertEquals("n/a: torch is not installed", o.describe());
    assertTrue(o.results().isEmpty());
    o = peers.run("crash.py", SPEC, 0, quiet);
    assertTrue(o.problem().startsWith("crash.py failed with exit status 1: RuntimeError: boom"), o.problem());
    o = peers.run("garbage.py", SPEC, 0, quiet);
    assertTrue(o.problem().contains("printed no result object"), o.problem());
    o = peers.run("missing.py", SPEC, 0, quiet);
    assertTrue(o.problem().contains("does not exist"), o.problem());
  }

  @Test
  void aMissingInterpreterOrScriptFolderIsReportedNotThrown() {
    PrintWriter quiet = new PrintWriter(new StringWriter());
    PeerScripts.Outcome o = new PeerScripts("/nonexistent/python", dir).run("echo.py", SPEC, 0, quiet);
    assertTrue(o.describe().startsWith("n/a: cannot run /nonexistent/python"), o.describe());
    assertTrue(o.problem().contains(PeerScripts.PYTHON_ENV));
    o = new PeerScripts("python3", null).run("echo.py", SPEC, 0, quiet);
    assertTrue(o.problem().contains(PeerScripts.SCRIPTS_ENV), o.problem());
  }

  @Test
  void theRepositoryScriptsAreFoundFromTheBuild() {
    Path found = PeerScripts.locate();
    assertNotNull(found);
    assertTrue(Files.isRegularFile(found.resolve(CpuSuite.PEER_SCRIPT)));
    assertTrue(Files.isRegularFile(found.resolve(KernelsSuite.PEER_SCRIPT)));
    assertTrue(Files.isRegularFile(found.resolve(TrainSuite.PEER_SCRIPT)));
  }
}
