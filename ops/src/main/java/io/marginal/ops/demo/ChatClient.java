package io.marginal.ops.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/** A user's view of the inference node's HTTP API, as any OpenAI-style client would use it. */
public final class ChatClient {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String baseUrl;
  private final String apiKey;

  public ChatClient(String baseUrl, String apiKey) {
    this.baseUrl = baseUrl;
    this.apiKey = apiKey;
  }

  /** One answer and the id to give feedback on. */
  public record Answer(String interactionId, String text, String adapters) {
  }

  public Answer chat(String prompt) {
    ObjectNode body = JSON.createObjectNode().put("model", "marginal-demo").put("max_tokens", 48);
    body.putArray("messages").addObject().put("role", "user").put("content", prompt);
    HttpResponse<String> response = send("POST", "/v1/chat/completions", body);
    JsonNode json = parse(response);
    String id = json.path("id").asText().replaceFirst("^chatcmpl-", "");
    return new Answer(id, json.path("choices").path(0).path("message").path("content").asText(),
        response.headers().firstValue("x-marginal-adapters").orElse(""));
  }

  public void preferResponse(String interactionId, String preferred) {
    parse(send("POST", "/v1/feedback", JSON.createObjectNode().put("interaction_id", interactionId)
        .put("kind", "preferred_response").put("preferred_response", preferred)));
  }

  /** Returns the deletion id. */
  public String forgetConcept(String concept) {
    return parse(send("POST", "/v1/deletions", JSON.createObjectNode().put("scope", "concept").put("concept", concept)))
        .path("id").asText();
  }

  /** Returns the deletion id. */
  public String forgetInteractions(List<String> interactionIds) {
    ObjectNode body = JSON.createObjectNode().put("scope", "interaction");
    interactionIds.forEach(body.putArray("target_ids")::add);
    return parse(send("POST", "/v1/deletions", body)).path("id").asText();
  }

  public JsonNode memory(String userId) {
    return parse(send("GET", "/v1/users/" + userId + "/memory", null));
  }

  private HttpResponse<String> send(String method, String path, JsonNode body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(60))
        .header("Authorization", "Bearer " + apiKey).header("Content-Type", "application/json");
    request.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body.toString()));
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(method + " " + path + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during " + method + " " + path, e);
    }
  }

  private static JsonNode parse(HttpResponse<String> response) {
    try {
      JsonNode json = JSON.readTree(response.body());
      if (response.statusCode() >= 400) {
        throw new IllegalStateException("HTTP " + response.statusCode() + ": " + json.path("error").path("message").asText(response.body()));
      }
      return json;
    } catch (IOException e) {
      throw new IllegalStateException("HTTP " + response.statusCode() + " with a body that is not JSON: " + response.body(), e);
    }
  }
}
