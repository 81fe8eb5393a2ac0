package io.marginal.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator endpoint of a service that has no HTTP API of its own (streams app, trainer):
 * {@code GET /metrics} (Prometheus text), {@code GET /ready} (200, or 503 with the reason) and
 * {@code GET /health} (the process answers). Plain JDK HTTP server on one daemon thread: a scrape
 * every few seconds needs nothing more. It listens on all interfaces (Prometheus scrapes it from
 * elsewhere); it shows no user data, but keep the port off public networks.
 */
public final class OpsHttpServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(OpsHttpServer.class);

  private final HttpServer server;
  private final ExecutorService executor;

  private OpsHttpServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts listening on {@code port} (0 = a free port; see {@link #port()}).
   *
   * @param notReady why the service should not get work now, or empty when it is ready
   */
  public static OpsHttpServer start(String service, int port, ServiceMetrics metrics, Supplier<Optional<String>> notReady) {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(port), 16);
    } catch (IOException e) {
      throw new UncheckedIOException("the " + service + " metrics endpoint cannot listen on port " + port
          + " (" + e.getMessage() + "); set another port in its configuration, or 0 for any free one", e);
    }
    ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, service + "-ops-http");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/metrics", exchange -> answer(exchange, 200, ServiceMetrics.CONTENT_TYPE, metrics.scrape()));
    server.createContext("/ready", exchange -> {
      Optional<String> reason = notReady.get();
      answer(exchange, reason.isEmpty() ? 200 : 503, "text/plain; charset=utf-8", reason.map(r -> r + "\n").orElse("ready\n"));
    });
    server.createContext("/health", exchange -> answer(exchange, 200, "text/plain; charset=utf-8", "ok\n"));
    server.start();
    OpsHttpServer ops = new OpsHttpServer(server, executor);
    LOG.info("{} serves /metrics and /ready on port {}", service, ops.port());
    return ops;
  }

  private static void answer(HttpExchange exchange, int status, String contentType, String body) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
        status = 405;
        body = "only GET\n";
      } else if (!path.equals(exchange.getHttpContext().getPath())) {
        status = 404;
        body = "no such path: " + path + " (try /metrics, /ready or /health)\n";
      }
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", status == 200 ? contentType : "text/plain; charset=utf-8");
      boolean head = exchange.getRequestMethod().equals("HEAD");
      exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
      if (!head) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(bytes);
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("ops endpoint {} failed: {}", exchange.getRequestURI(), e.toString());
      throw e;
    }
  }

  /** The port it listens on (the chosen one when started with 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
