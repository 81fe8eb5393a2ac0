package io.marginal.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.topics.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
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
        Map.of("MARGINAL_HTTP_PORT", "0"));
    String bootstrap = launcher.start();
    java.net.http.HttpResponse<String> models = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(launcher.inference().baseUrl() + "/v1/models"))
            .header("Authorization", "Bearer demo-key-alice").build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(200, models.statusCode(), models.body());
    assertTrue(models.body().contains("marginal-demo"), models.body());
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
