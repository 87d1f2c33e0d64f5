package ai.lmtrain.train.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The NCCL id exchange of the env:// launch, with ranks as threads on localhost. */
class TcpIdExchangeTest {
  private static final int ID_BYTES = 128;

  @Test
  void everyRankReceivesRankZerosId() throws Exception {
    int port = freePort();
    byte[] id = new byte[ID_BYTES];
    for (int i = 0; i < id.length; i++) {
      id[i] = (byte) (i * 7 + 3);
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<byte[]>> got = new ArrayList<>();
      for (int rank = 3; rank >= 0; rank--) { // clients first: they retry until rank 0 listens
        int r = rank;
        got.add(pool.submit(() -> TcpIdExchange.exchange(r, 4, "localhost", port, r == 0 ? id : null, ID_BYTES, 30)));
      }
      for (Future<byte[]> f : got) {
        assertArrayEquals(id, f.get());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aClientOfAnotherJobIsRefused() throws Exception {
    int port = freePort();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<byte[]> server = pool.submit(() -> TcpIdExchange.exchange(0, 2, "localhost", port, new byte[ID_BYTES],
          ID_BYTES, 30));
      Future<byte[]> stranger = pool.submit(() -> TcpIdExchange.exchange(1, 3, "localhost", port, null, ID_BYTES, 3));
      Exception e = assertThrows(Exception.class, server::get);
      assertEquals("a client on port " + port + " claims rank 1 of 3, but this job has 2 ranks", e.getCause().getMessage());
      assertThrows(Exception.class, stranger::get);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void missingRanksAndMissingServersTimeOut() throws Exception {
    int port = freePort();
    IOException server = assertThrows(IOException.class,
        () -> TcpIdExchange.exchange(0, 3, "localhost", port, new byte[ID_BYTES], ID_BYTES, 1));
    assertTrue(server.getMessage().startsWith("rank 0 waited 1 s for ranks 1, 2 to fetch the NCCL id on port " + port),
        server.getMessage());
    IOException client = assertThrows(IOException.class,
        () -> TcpIdExchange.exchange(2, 3, "localhost", port, null, ID_BYTES, 1));
    assertTrue(client.getMessage().startsWith("rank 2 could not fetch the NCCL id from rank 0 at localhost:" + port
        + " within 1 s"), client.getMessage());
  }

  @Test
  void anotherServiceOnThePortIsNamed() throws Exception {
    try (ServerSocket other = new ServerSocket(0)) {
      Thread service = new Thread(() -> {
        try (Socket s = other.accept(); OutputStream out = s.getOutputStream()) {
          // Read the client's hello first: closing a socket with unread input sends a reset, which the
          // client could see before the answer (it would then retry, like a client of a rank 0 not up yet).
          s.getInputStream().readNBytes(TcpIdExchange.MAGIC.length + 2 * Integer.BYTES);
          out.write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes());
        } catch (IOException e) {
          // the test's client went away
        }
      });
      service.start();
      IOException e = assertThrows(IOException.class,
          () -> TcpIdExchange.exchange(1, 2, "localhost", other.getLocalPort(), null, ID_BYTES, 10));
      assertTrue(e.getMessage().endsWith("is not lmtrain's NCCL id exchange (is another service, such as torchrun's"
          + " agent store, on that port?)"), e.getMessage());
      service.join(5000);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
