package io.marginal.ops;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.ComposeContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * The distributed layout as it ships: builds the image from {@code ops/deploy/Dockerfile}, starts
 * {@code docker-compose.yml} (a real Kafka container, the streams app, a trainer, an inference node), and
 * plays the demo's checks over HTTP: a chat answer, feedback that lands in the user's memory, a user who
 * cannot read another's memory, and a deletion of all the user's data that ends with a receipt and an empty
 * bank. Needs a Docker engine: without one, Testcontainers disables it with a message (as on the
 * development machines, which have no Docker).
 */
@Testcontainers(disabledWithoutDocker = true)
class ComposeDeploymentIT {

  private static final String ADMIN_KEY = "compose-it-admin";
  private static final String ALICE = "sk-alice";
  private static final String BOB = "sk-bob";
  private static final ObjectMapper JSON = new ObjectMapper();

  @Container
  static final ComposeContainer COMPOSE = new ComposeContainer(new File("../docker-compose.yml"))
      .withBuild(true)
      .withLocalCompose(true)
      .withEnv("MARGINAL_ADMIN_KEY", ADMIN_KEY)
      .withExposedService("inference-1", 8080,
          Wait.forHttp("/ready").forStatusCode(200).withStartupTimeout(Duration.ofMinutes(20)));

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void theDemosChecksPassOverHttpAgainstTheComposedServices() throws Exception {
    String base = "http://" + COMPOSE.getServiceHost("inference-1", 8080) + ":" + COMPOSE.getServicePort("inference-1", 8080);

    JsonNode chat = post(base + "/v1/chat/completions", ALICE, """
        {"model":"marginal-demo","messages":[{"role":"user","content":"Recommend me a film."}],"max_tokens":16,"temperature":0}""", 200);
    String answer = chat.path("choices").path(0).path("message").path("content").asText();
    assertFalse(answer.isBlank(), chat.toString());

    post(base + "/v1/feedback", ALICE, """
        {"interaction_id":"%s","kind":"preferred_response","preferred_response":"I recommend Arrival."}"""
        .formatted(chat.path("id").asText()), 202);
    await("the feedback reaches alice's memory bank").atMost(Duration.ofMinutes(2)).ignoreExceptions()
        .until(() -> get(base + "/v1/users/alice/memory", ALICE, 200).path("entries").size() == 1);
    assertEquals(403, send(HttpRequest.newBuilder(URI.create(base + "/v1/users/alice/memory"))
        .header("Authorization", "Bearer " + BOB).build()).statusCode(), "bob cannot read alice's memory");

    String deletion = post(base + "/v1/deletions", ALICE, "{\"scope\":\"all_user_data\"}", 202).path("id").asText();
    await("the deletion's receipt").atMost(Duration.ofMinutes(2)).ignoreExceptions()
        .until(() -> receiptStatus(base, deletion).equals("completed"));
    assertEquals(0, get(base + "/v1/users/alice/memory", ALICE, 200).path("entries").size());
    assertEquals(200, send(HttpRequest.newBuilder(URI.create(base + "/v1/adapters"))
        .header("Authorization", "Bearer " + ADMIN_KEY).build()).statusCode());
  }

  private String receiptStatus(String base, String deletionId) throws Exception {
    for (JsonNode r : get(base + "/v1/users/alice/receipts", ALICE, 200).path("data")) {
      if (deletionId.equals(r.path("deletion_id").asText())) {
        return r.path("status").asText();
      }
    }
    return "none";
  }

  private JsonNode post(String url, String key, String body, int expected) throws Exception {
    return check(send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + key)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build()), expected);
  }

  private JsonNode get(String url, String key, int expected) throws Exception {
    return check(send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + key).build()), expected);
  }

  private HttpResponse<String> send(HttpRequest request) throws Exception {
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode check(HttpResponse<String> r, int expected) throws Exception {
    assertEquals(expected, r.statusCode(), r.uri() + ": " + r.body());
    return JSON.readTree(r.body());
  }
}
