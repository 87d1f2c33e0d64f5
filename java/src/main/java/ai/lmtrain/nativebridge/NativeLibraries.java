package ai.lmtrain.nativebridge;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;
import org.bytedeco.javacpp.Loader;

/** The optional native libraries packaged next to liblmtrain.so. */
public final class NativeLibraries {
  /** The MPI shim: built when CMake finds MPI, loaded by liblmtrain for distributed CPU runs. */
  public static final String MPI_SHIM = "liblmtrain_mpi.so";

  private NativeLibraries() {}

  /**
   * The MPI shim's path: the file in the classes folder, or its copy extracted from the jar into
   * JavaCPP's cache. Empty when this build has none (CMake found no MPI).
   */
  public static Optional<Path> mpiShim() {
    String resource = Loader.getPlatform() + "/" + MPI_SHIM;
    if (LmtNative.class.getResource(resource) == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Loader.cacheResource(LmtNative.class, resource).toPath());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract " + MPI_SHIM + " from the jar: " + e.getMessage(), e);
    }
  }
}
