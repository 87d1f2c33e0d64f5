package ai.lmtrain.cli;

import ai.lmtrain.nativebridge.NativeCalls;
import picocli.CommandLine;

/** "lmtrain 0.1.0 (native core 0.1.0, CUDA backend: yes|no)". */
final class VersionProvider implements CommandLine.IVersionProvider {
  @Override
  public String[] getVersion() {
    String version = Main.class.getPackage().getImplementationVersion();
    return new String[] {
      "lmtrain " + (version == null ? "dev" : version) + " (native core " + NativeCalls.version() + ", CUDA backend: "
          + (NativeCalls.hasCudaBackend() ? "yes" : "no") + ")"
    };
  }
}
