package io.marginal.ops;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.topics.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

class LocalLauncherIT {

  @Test
  void startsABrokerCreatesEveryTopicAndStopsCleanly() throws Exception {
    Path dir = Files.createTempDirectory("launcher");
    LocalLauncher launcher = new LocalLauncher(LauncherConfig.parse(
        new String[] {"--data-dir", dir.toString(), "--broker-port", "0", "--services-only"}, Map.of()),
        Map.of("MARGINAL_HTTP_PORT", "0", "MARGINAL_STREAMS_HTTP_PORT", "0", "MARGINAL_TRAINER_HTTP_PORT", "0"));
    String bootstrap = launcher.start();
    java.net.http.HttpResponse<String> models = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(launcher.inference().baseUrl() + "/v1/models"))
            .header("Authorization", "Bearer demo-key-alice").build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(200, models.statusCode(), models.body());
    assertTrue(models.body().contains("marginal-demo"), models.body());
    String ready = launcher.inference().baseUrl() + "/ready";
    assertEquals(200, awaitStatus(ready, 200, "", Duration.ofSeconds(30)).statusCode());
    String streamsReady = "http://localhost:" + launcher.streamsApp().httpPort() + "/ready";
    assertEquals(200, awaitStatus(streamsReady, 200, "ready", Duration.ofSeconds(30)).statusCode());

    // /ready answers for the services behind the node: a killed trainer, then a stopped streams app.
    ProcessHandle trainer = ProcessHandle.of(launcher.trainer().pid()).orElseThrow();
    trainer.destroyForcibly();
    trainer.onExit().get();
    awaitStatus(ready, 503, "trainer process is down or starting", Duration.ofSeconds(30));
    awaitStatus(ready, 200, "", Duration.ofSeconds(120)); // the supervisor brought it back
    assertEquals(1, launcher.trainer().restarts());
    launcher.streamsApp().streams().close(Duration.ofSeconds(10));
    awaitStatus(ready, 503, "streams app is NOT_RUNNING", Duration.ofSeconds(30));
    awaitStatus(streamsReady, 503, "streams app is NOT_RUNNING", Duration.ofSeconds(30)); // its own endpoint says so too
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      Set<String> names = admin.listTopics().names().get();
      for (var spec : Topics.defaults().all()) {
        assertTrue(names.contains(spec.name()), "missing topic " + spec.name() + " in " + names);
      }
    } finally {
      launcher.stop();
    }
    assertTrue(Files.exists(dir.resolve("kafka/data/meta.properties")), "broker data stays for the next start");
  }

  private static java.net.http.HttpResponse<String> awaitStatus(String url, int status, String bodyPart, Duration timeout)
      throws Exception {
    java.util.concurrent.atomic.AtomicReference<java.net.http.HttpResponse<String>> last = new java.util.concurrent.atomic.AtomicReference<>();
    java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
    try {
      return await().atMost(timeout).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
          .until(() -> {
            last.set(client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()));
            return last.get();
          }, r -> r.statusCode() == status && r.body().contains(bodyPart));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("GET " + url + " never answered " + status + " with '" + bodyPart + "'; last: "
          + (last.get() == null ? "nothing" : last.get().statusCode() + " " + last.get().body()), e);
    }
  }

  @Test
  void numbersInferenceNodesAndTheirPorts() {
    Map<String, String> env = Map.of("MARGINAL_NODE_ID", "local-1", "MARGINAL_HTTP_PORT", "8080");
    assertEquals("local-1", LocalLauncher.inferenceEnvironment(env, 1).get("MARGINAL_NODE_ID"));
    assertEquals("8080", LocalLauncher.inferenceEnvironment(env, 1).get("MARGINAL_HTTP_PORT"));
    assertEquals("local-3", LocalLauncher.inferenceEnvironment(env, 3).get("MARGINAL_NODE_ID"));
    assertEquals("8082", LocalLauncher.inferenceEnvironment(env, 3).get("MARGINAL_HTTP_PORT"));
    assertEquals("0", LocalLauncher.inferenceEnvironment(Map.of("MARGINAL_NODE_ID", "local-1", "MARGINAL_HTTP_PORT", "0"), 2)
        .get("MARGINAL_HTTP_PORT"));
    assertEquals(3, LauncherConfig.parse(new String[] {"--services-only", "--inference-nodes", "3"}, Map.of()).inferenceNodes());
  }

  @Test
  void explainsBadFlags() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LauncherConfig.parse(new String[] {"--broker-port", "http"}, Map.of()));
    assertEquals("--broker-port must be a port number (0-65535), got http", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> LauncherConfig.parse(new String[] {"--nope"}, Map.of()));
    assertEquals("--inference-nodes must be a number of nodes between 1 and 64, got 0",
        assertThrows(IllegalArgumentException.class, () -> LauncherConfig.parse(new String[] {"--inference-nodes", "0"}, Map.of()))
            .getMessage());
  }
}
