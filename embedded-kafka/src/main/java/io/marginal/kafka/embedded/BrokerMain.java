package io.marginal.kafka.embedded;

import java.io.IOException;
import java.io.InputStream;

/**
 * {@code kafka.Kafka} for a broker that is a child of a launcher: it exits when the launcher does,
 * even on {@code kill -9}. The launcher holds the write end of this process's standard input; when
 * the launcher dies the pipe closes, the read below returns end-of-file, and the broker shuts down
 * cleanly (its own shutdown hook) instead of living on as an orphan holding the port and the log.
 */
public final class BrokerMain {

  private BrokerMain() {
  }

  public static void main(String[] args) throws Exception {
    Thread watch = new Thread(() -> {
      try (InputStream in = System.in) {
        while (in.read() >= 0) {
          // the launcher never writes; only the end of the stream matters
        }
      } catch (IOException e) {
        // a broken pipe means the same: the launcher is gone
      }
      System.err.println("launcher gone (stdin closed); stopping the broker");
      System.exit(0);
    }, "exit-with-launcher");
    watch.setDaemon(true);
    watch.start();
    kafka.Kafka.main(args);
  }
}
