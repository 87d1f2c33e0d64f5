package ai.lmtrain.train.dist;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.BitSet;

/**
 * Hands rank 0's NCCL unique id to every rank over TCP, for PyTorch's {@code env://} launch
 * ({@link Launch.Kind#ENV}): rank 0 listens on MASTER_PORT, every other rank connects to
 * MASTER_ADDR:MASTER_PORT (retrying until the timeout), says who it is, and receives the id.
 *
 * <p>Wire format, big-endian: the client sends {@code MAGIC, rank (int), worldSize (int)}; the
 * server answers {@code MAGIC, id bytes}. A client of another world size, a repeated or
 * out-of-range rank, or a peer that is not lmtrain is an error naming it.
 */
final class TcpIdExchange {
  static final byte[] MAGIC = "lmtrain-nccl-id/1".getBytes(StandardCharsets.US_ASCII);
  private static final long RETRY_MILLIS = 100;

  private TcpIdExchange() {}

  /**
   * Rank 0 serves {@code id} to the other {@code worldSize - 1} ranks; every other rank returns
   * the id it received. Fails after {@code timeoutSeconds}.
   */
  static byte[] exchange(int rank, int worldSize, String masterAddr, int masterPort, byte[] id, int idBytes,
      double timeoutSeconds) throws IOException {
    long deadline = System.nanoTime() + (long) (timeoutSeconds * 1e9);
    return rank == 0 ? serve(worldSize, masterPort, id, deadline, timeoutSeconds)
        : fetch(rank, worldSize, masterAddr, masterPort, idBytes, deadline, timeoutSeconds);
  }

  private static byte[] serve(int worldSize, int port, byte[] id, long deadline, double timeoutSeconds)
      throws IOException {
    BitSet served = new BitSet(worldSize);
    served.set(0);
    try (ServerSocket server = new ServerSocket()) {
      server.setReuseAddress(true);
      server.bind(new InetSocketAddress(port), worldSize);
      while (served.cardinality() < worldSize) {
        server.setSoTimeout(remainingMillis(deadline, "rank 0 waited " + (long) timeoutSeconds + " s for ranks "
            + missing(served, worldSize) + " to fetch the NCCL id on port " + port));
        try (Socket peer = server.accept()) {
          peer.setSoTimeout(remainingMillis(deadline, "a rank connected but did not say who it is"));
          DataInputStream in = new DataInputStream(peer.getInputStream());
          expectMagic(in, "a client on port " + port);
          int rank = in.readInt();
          int size = in.readInt();
          if (size != worldSize || rank <= 0 || rank >= worldSize) {
            throw new WrongPeer("a client on port " + port + " claims rank " + rank + " of " + size + ", but this job has "
                + worldSize + " ranks");
          }
          if (served.get(rank)) {
            throw new WrongPeer("two clients on port " + port + " claim rank " + rank);
          }
          DataOutputStream out = new DataOutputStream(peer.getOutputStream());
          out.write(MAGIC);
          out.write(id);
          out.flush();
          served.set(rank);
        } catch (SocketTimeoutException e) {
          throw new IOException("rank 0 waited " + (long) timeoutSeconds + " s for ranks " + missing(served, worldSize)
              + " to fetch the NCCL id on port " + port, e);
        }
      }
    }
    return id.clone();
  }

  private static byte[] fetch(int rank, int worldSize, String host, int port, int idBytes, long deadline,
      double timeoutSeconds) throws IOException {
    IOException last = null;
    while (System.nanoTime() < deadline) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(host, port), remainingMillis(deadline, "connect"));
        socket.setSoTimeout(remainingMillis(deadline, "reply"));
        DataOutputStream out = new DataOutputStream(socket.getOutputStream());
        out.write(MAGIC);
        out.writeInt(rank);
        out.writeInt(worldSize);
        out.flush();
        DataInputStream in = new DataInputStream(socket.getInputStream());
        expectMagic(in, host + ":" + port);
        byte[] id = new byte[idBytes];
        in.readFully(id);
        return id;
      } catch (WrongPeer e) {
        throw e;
      } catch (IOException e) {
        last = e; // rank 0 is not listening yet: retry
      }
      try {
        Thread.sleep(RETRY_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while fetching the NCCL id", e);
      }
    }
    throw new IOException("rank " + rank + " could not fetch the NCCL id from rank 0 at " + host + ":" + port
        + " within " + (long) timeoutSeconds + " s" + (last == null ? "" : " (last error: " + last.getMessage() + ")"),
        last);
  }

  private static void expectMagic(DataInputStream in, String who) throws IOException {
    byte[] magic = new byte[MAGIC.length];
    in.readFully(magic);
    if (!Arrays.equals(magic, MAGIC)) {
      throw new WrongPeer(who + " is not lmtrain's NCCL id exchange (is another service, such as torchrun's agent"
          + " store, on that port?)");
    }
  }

  /** The other side is not a rank of this job speaking this protocol: retrying will not help. */
  static final class WrongPeer extends IOException {
    WrongPeer(String message) {
      super(message);
    }
  }

  private static int remainingMillis(long deadline, String what) throws SocketTimeoutException {
    long millis = (deadline - System.nanoTime()) / 1_000_000;
    if (millis <= 0) {
      throw new SocketTimeoutException(what);
    }
    return (int) Math.min(Integer.MAX_VALUE, millis);
  }

  private static String missing(BitSet served, int worldSize) {
    StringBuilder b = new StringBuilder();
    for (int r = served.nextClearBit(0); r < worldSize; r = served.nextClearBit(r + 1)) {
      b.append(b.length() == 0 ? "" : ", ").append(r);
    }
    return b.toString();
  }
}
