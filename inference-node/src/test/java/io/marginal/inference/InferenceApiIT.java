package io.marginal.inference;

import static org.awaitility.Awaitility.await;
import static io.marginal.inference.TestCluster.ADMIN_KEY;
import static io.marginal.inference.TestCluster.ALICE_KEY;
import static io.marginal.inference.TestCluster.BOB_KEY;
import static io.marginal.inference.TestCluster.MODEL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.ReceiptStatus;
import io.marginal.schemas.TransitionCount;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import io.marginal.personalization.bank.BankChanges;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * End to end through real HTTP: a node on an embedded Kafka broker with a real (tiny, random-weight)
 * Llama checkpoint. Chat (plain and streamed), interactions on Kafka, feedback and deletions,
 * the memory-bank replica with tombstones, CM personalization, models, auth and errors.
 */
class InferenceApiIT {

  static TestCluster cluster;
  static InferenceNode node;
  static Http http;

  @BeforeAll
  static void start() throws Exception {
    cluster = new TestCluster();
    node = cluster.startNode("node-api", Map.of());
    http = new Http(node.port());
  }

  @AfterAll
  static void stop() {
    if (http != null) {
      http.close();
    }
    if (node != null) {
      node.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void chatCompletionHasTheOpenAiShapeAndIsRecordedAsAnInteraction() throws Exception {
    HttpResponse<Buffer> r = http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, "How do I reset my password?", 12, false));
    assertEquals(200, r.statusCode(), r.bodyAsString());
    JsonObject body = r.bodyAsJsonObject();
    String interactionId = r.getHeader("x-marginal-interaction-id");
    assertNotNull(interactionId);
    assertEquals("chatcmpl-" + interactionId, body.getString("id"));
    assertEquals("chat.completion", body.getString("object"));
    assertEquals(MODEL, body.getString("model"));
    JsonObject choice = body.getJsonArray("choices").getJsonObject(0);
    assertEquals("assistant", choice.getJsonObject("message").getString("role"));
    String content = choice.getJsonObject("message").getString("content");
    assertFalse(content.isEmpty());
    assertTrue(List.of("stop", "length").contains(choice.getString("finish_reason")));
    JsonObject usage = body.getJsonObject("usage");
    assertTrue(usage.getInteger("prompt_tokens") > 0);
    assertTrue(usage.getInteger("completion_tokens") > 0 && usage.getInteger("completion_tokens") <= 12);
    assertEquals(usage.getInteger("prompt_tokens") + usage.getInteger("completion_tokens"), usage.getInteger("total_tokens"));

    Interaction recorded = cluster.await(Topics.INTERACTIONS, b -> MarginalSerdes.INTERACTION.deserialize(Topics.INTERACTIONS, b),
        i -> i.getInteractionId().equals(interactionId), Duration.ofSeconds(20));
    assertEquals("alice", recorded.getUserId());
    assertEquals("node-api", recorded.getNodeId());
    assertEquals(content, recorded.getResponse());
    assertTrue(recorded.getPrompt().contains("How do I reset my password?"));
    assertEquals(64, recorded.getInstanceEmbedding().size(), "hidden size of the tiny model");
    double norm = Math.sqrt(recorded.getInstanceEmbedding().stream().mapToDouble(f -> f * f).sum());
    assertEquals(1.0, norm, 1e-3, "the instance embedding is L2-normalised");
    assertEquals(1, recorded.getCandidates().size(), "empty bank: the answer is the only candidate");
    assertEquals(1.0, recorded.getCandidates().get(0).getProbability(), 1e-9);
  }

  @Test
  void streamingSendsChunksEndingInDoneWithTheSameTextAsGreedyNonStreaming() throws Exception {
    String prompt = "What are your opening hours?";
    HttpResponse<Buffer> plain = http.post("/v1/chat/completions", BOB_KEY, Http.chat(MODEL, prompt, 10, false));
    HttpResponse<Buffer> streamed = http.post("/v1/chat/completions", BOB_KEY, Http.chat(MODEL, prompt, 10, true));
    assertEquals(200, streamed.statusCode(), streamed.bodyAsString());
    assertTrue(streamed.getHeader("content-type").startsWith("text/event-stream"));
    List<String> events = Http.events(streamed.bodyAsString());
    assertEquals("[DONE]", events.get(events.size() - 1));
    assertTrue(events.size() >= 4, "role chunk, content chunks, final chunk, [DONE]: " + events);
    JsonObject first = new JsonObject(events.get(0));
    assertEquals("chat.completion.chunk", first.getString("object"));
    assertEquals("assistant", first.getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getString("role"));
    JsonObject last = new JsonObject(events.get(events.size() - 2));
    assertNotNull(last.getJsonArray("choices").getJsonObject(0).getString("finish_reason"));
    String interactionId = streamed.getHeader("x-marginal-interaction-id");
    assertEquals("chatcmpl-" + interactionId, first.getString("id"));
    String expected = plain.bodyAsJsonObject().getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
    assertEquals(expected, Http.streamedText(streamed.bodyAsString()), "temperature 0: streamed text equals the plain answer");
    cluster.await(Topics.INTERACTIONS, b -> MarginalSerdes.INTERACTION.deserialize(Topics.INTERACTIONS, b),
        i -> i.getInteractionId().equals(interactionId) && i.getResponse().equals(expected), Duration.ofSeconds(20));
  }

  @Test
  void errorsAreFourHundredsInTheOpenAiShapeWithClearMessages() throws Exception {
    assertError(http.post("/v1/chat/completions", ALICE_KEY, "{\"model\": \"marginal-demo\", \"messages\": ["), 400,
        "invalid_request_error", "invalid_json", "could not parse the JSON");
    assertError(http.post("/v1/chat/completions", ALICE_KEY, "[1,2]"), 400, "invalid_request_error", "invalid_json", "JSON object");
    assertError(http.post("/v1/chat/completions", ALICE_KEY, "{\"model\":\"marginal-demo\"}"), 400, "invalid_request_error",
        "invalid_value", "'messages' must be a non-empty array");
    assertError(http.post("/v1/chat/completions", ALICE_KEY, Http.chat("gpt-4o", "hi", 5, false)), 404, "invalid_request_error",
        "model_not_found", "The model 'gpt-4o' does not exist");
    assertError(http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL + ":user-bob", "hi", 5, false)), 404,
        "invalid_request_error", "model_not_found", "user-bob");
    assertError(http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, "hi", 100_000, false)), 400,
        "invalid_request_error", "invalid_value", "'max_tokens' must be between 1 and");
    String tooManyChars = Http.chat(MODEL, "word ".repeat(1000), 5, false);
    assertError(http.post("/v1/chat/completions", ALICE_KEY, tooManyChars), 400, "invalid_request_error",
        "context_length_exceeded", "MARGINAL_MAX_PROMPT_CHARS");
    String tooManyTokens = Http.chat(MODEL, "password reset help please ".repeat(120), 5, false);
    assertError(http.post("/v1/chat/completions", ALICE_KEY, tooManyTokens), 400, "invalid_request_error",
        "context_length_exceeded", "prompt tokens");
    String oversized = Http.chat(MODEL, "x".repeat(70_000), 5, false);
    assertError(http.post("/v1/chat/completions", ALICE_KEY, oversized), 413, "invalid_request_error", "request_too_large",
        "larger than 65536 bytes");
    assertError(http.post("/v1/chat/completions", null, Http.chat(MODEL, "hi", 5, false)), 401, "invalid_request_error",
        "invalid_api_key", "didn't provide an API key");
    HttpResponse<Buffer> wrong = http.post("/v1/chat/completions", "sk-nope", Http.chat(MODEL, "hi", 5, false));
    assertError(wrong, 401, "invalid_request_error", "invalid_api_key", "Incorrect API key");
    assertEquals("Bearer", wrong.getHeader("WWW-Authenticate"));
    String asBob = new JsonObject(Http.chat(MODEL, "hi", 5, false)).put("user", "bob").encode();
    assertError(http.post("/v1/chat/completions", ALICE_KEY, asBob), 403, "permission_error", "forbidden", "belongs to 'alice'");
    assertError(http.get("/v1/users/bob/memory", ALICE_KEY), 403, "permission_error", "forbidden", "your own memory bank");
    assertError(http.post("/v1/feedback", ALICE_KEY, "{\"interaction_id\":\"x\",\"kind\":\"thumbs_up\",\"user_id\":\"bob\"}"), 403,
        "permission_error", "forbidden", "only act on your own data");
    assertError(http.post("/v1/feedback", ALICE_KEY, "{\"interaction_id\":\"x\",\"kind\":\"meh\"}"), 400,
        "invalid_request_error", "invalid_value", "'kind' must be one of");
    assertError(http.post("/v1/deletions", ALICE_KEY, "{\"scope\":\"interaction\"}"), 400, "invalid_request_error",
        "invalid_value", "needs 'target_ids'");
    assertError(http.get("/v1/adapters", ALICE_KEY), 403, "permission_error", "forbidden", "admin key");
    assertError(http.get("/v1/nothing-here", ALICE_KEY), 404, "invalid_request_error", "unknown_url", "Unknown request URL");
    String stringTokens = new JsonObject(Http.chat(MODEL, "hi", 5, false)).put("max_tokens", "16").encode();
    assertError(http.post("/v1/chat/completions", ALICE_KEY, stringTokens), 400, "invalid_request_error", "invalid_value",
        "got the string \"16\" (send it without quotes)");
    assertError(http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, "é中".repeat(1500), 5, false)), 400,
        "invalid_request_error", "unsupported_text", "3000 of its 3000 characters (such as é中) appear in no token");
    assertEquals(200, http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, "how do I reset my pin, señor?", 3, false))
        .statusCode(), "an unknown letter among known ones is fine");
    assertEquals(200, http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, "Quixotic zebra 0", 3, false))
        .statusCode(), "unknown words of known letters are ordinary for a small vocabulary");
    String bigSeed = new JsonObject(Http.chat(MODEL, "hi", 3, false)).put("seed", 9_007_199_254_740_993L).encode();
    assertEquals(200, http.post("/v1/chat/completions", ALICE_KEY, bigSeed).statusCode(), "a 64-bit seed is valid");
  }

  /**
   * Every route the node serves, walked with Bob's key aimed at Alice's data (her id in the path,
   * in every user field of the body, her adapter as the model): user-scoped routes answer 403 or
   * 404, and no answer anywhere carries anything of Alice's.
   */
  @Test
  void bobsKeyReachesNothingOfAlicesOnAnyRoute() throws Exception {
    cluster.publishAdapter("user-alice", "user:alice", 1, 77);
    cluster.await(io.marginal.schemas.topics.Topics.ADAPTER_ACTIVATIONS,
        b -> io.marginal.schemas.serde.MarginalSerdes.ADAPTER_ACTIVATION.deserialize("a", b),
        a -> a.getAdapterId().equals("user-alice") && a.getNodeId().equals("node-api"), java.time.Duration.ofSeconds(30));
    String body = new JsonObject().put("user", "alice").put("user_id", "alice").put("model", MODEL + ":user-alice")
        .put("messages", new io.vertx.core.json.JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")))
        .put("max_tokens", 2).put("interaction_id", "x").put("kind", "thumbs_up").put("scope", "all_user_data").encode();
    java.util.List<String> walked = new java.util.ArrayList<>();
    for (String route : node.routes()) {
      String method = route.substring(0, route.indexOf(' '));
      String path = route.substring(route.indexOf(' ') + 1);
      if (method.equals("*") || path.startsWith("/console")) {
        continue; // middleware (auth, body limits) and the static console page
      }
      String concrete = path.replace(":id", path.startsWith("/v1/models") ? MODEL + ":user-alice" : "alice");
      HttpResponse<Buffer> r = method.equals("POST") ? http.post(concrete, BOB_KEY, body) : http.get(concrete, BOB_KEY);
      walked.add(route + " -> " + r.statusCode());
      boolean userScoped = path.contains(":id") || method.equals("POST") || path.startsWith("/v1/adapters") || path.equals("/metrics");
      if (userScoped) {
        assertTrue(r.statusCode() == 403 || r.statusCode() == 404, route + " answered " + r.statusCode() + ": " + r.bodyAsString());
      }
      // An error may echo what Bob sent; an answer must hold nothing of Alice's.
      assertFalse(r.statusCode() < 300 && (r.bodyAsString().contains("user-alice") || r.bodyAsString().contains("\"alice\"")),
          route + " showed Bob something of Alice's: " + r.bodyAsString());
    }
    System.out.println("access walk with another user's key: " + walked);
    assertTrue(walked.size() >= 13, "walked only " + walked);
  }

  @Test
  void aBodyThatStopsHalfWayGets408AndTheConnectionIsClosed() throws Exception {
    try (java.net.Socket socket = new java.net.Socket("localhost", node.port())) {
      socket.setSoTimeout(30_000);
      var out = socket.getOutputStream();
      out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + ALICE_KEY
          + "\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"model\": \"marginal-").getBytes(
          java.nio.charset.StandardCharsets.US_ASCII));
      out.flush();
      long t0 = System.nanoTime();
      String response = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      long waitedMs = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(response.startsWith("HTTP/1.1 408"), response);
      assertTrue(response.contains("\"code\":\"request_timeout\""), response);
      assertTrue(waitedMs >= 9_000, "closed after " + waitedMs + " ms"); // readAllBytes returned: the server closed it
    }
  }

  @Test
  void feedbackAndDeletionsArePublishedUnderTheAuthenticatedUser() throws Exception {
    HttpResponse<Buffer> fb = http.post("/v1/feedback", ALICE_KEY,
        "{\"interaction_id\":\"chatcmpl-i-42\",\"kind\":\"preferred_response\",\"preferred_response\":\"Use the reset link.\"}");
    assertEquals(202, fb.statusCode(), fb.bodyAsString());
    String feedbackId = fb.bodyAsJsonObject().getString("id");
    Feedback feedback = cluster.await(Topics.FEEDBACK, b -> MarginalSerdes.FEEDBACK.deserialize(Topics.FEEDBACK, b),
        f -> f.getFeedbackId().equals(feedbackId), Duration.ofSeconds(20));
    assertEquals("alice", feedback.getUserId());
    assertEquals("i-42", feedback.getInteractionId());
    assertEquals(FeedbackKind.PREFERRED_RESPONSE, feedback.getKind());
    assertEquals("Use the reset link.", feedback.getPreferredResponse());

    HttpResponse<Buffer> del = http.post("/v1/deletions", BOB_KEY, "{\"scope\":\"interaction\",\"target_ids\":[\"i-7\"]}");
    assertEquals(202, del.statusCode(), del.bodyAsString());
    String deletionId = del.bodyAsJsonObject().getString("id");
    DeletionRequest deletion = cluster.await(Topics.DELETIONS, b -> MarginalSerdes.DELETION_REQUEST.deserialize(Topics.DELETIONS, b),
        d -> d.getDeletionId().equals(deletionId), Duration.ofSeconds(20));
    assertEquals("bob", deletion.getUserId());
    assertEquals(DeletionScope.INTERACTION, deletion.getScope());
    assertEquals(List.of("i-7"), deletion.getTargetIds());
  }

  @Test
  void deletionReceiptsAreServedToTheirUserOnlyAndMeNamesTheKeysUser() throws Exception {
    JsonObject me = http.get("/v1/me", ALICE_KEY).bodyAsJsonObject();
    assertEquals("alice", me.getString("user"));
    assertEquals(false, me.getBoolean("admin"));
    assertEquals(true, http.get("/v1/me", ADMIN_KEY).bodyAsJsonObject().getBoolean("admin"));

    cluster.publishReceipt("alice", "del-r1", DeletionScope.INTERACTION, ReceiptStatus.PENDING_UNLEARNING);
    cluster.publishReceipt("bob", "del-bob", DeletionScope.ALL_USER_DATA, ReceiptStatus.COMPLETED);
    cluster.publishReceipt("alice", "del-r1", DeletionScope.INTERACTION, ReceiptStatus.UNLEARNED);
    JsonArray data = await("alice's receipt moves to unlearned").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
        .until(() -> {
          HttpResponse<Buffer> r = http.get("/v1/users/alice/receipts", ALICE_KEY);
          assertEquals(200, r.statusCode(), r.bodyAsString());
          return r.bodyAsJsonObject().getJsonArray("data");
        }, d -> !d.isEmpty() && "unlearned".equals(d.getJsonObject(0).getString("status")));
    assertEquals(1, data.size(), "the later receipt of a deletion replaces the earlier one: " + data);
    JsonObject receipt = data.getJsonObject(0);
    assertEquals("del-r1", receipt.getString("deletion_id"));
    assertEquals("interaction", receipt.getString("scope"));
    assertEquals("unlearned", receipt.getString("status"));
    assertEquals("memory-bank-store", receipt.getJsonArray("erased").getJsonObject(0).getString("store"));
    assertEquals(2, receipt.getJsonArray("erased").getJsonObject(0).getInteger("count"));
    assertNotNull(Instant.parse(receipt.getString("hidden_at")));
    assertNotNull(Instant.parse(receipt.getString("physically_erased_by")));
    assertNotNull(Instant.parse(receipt.getString("timestamp")));
    assertTrue(receipt.containsKey("unlearning_request_id") && receipt.containsKey("covering_adapter"), receipt.encode());
    assertFalse(data.encode().contains("del-bob"), "bob's receipt leaked into alice's: " + data);
    assertError(http.get("/v1/users/alice/receipts", BOB_KEY), 403, "permission_error", "forbidden", "your own deletion receipts");
    assertError(http.get("/v1/users/alice/receipts", ADMIN_KEY), 403, "permission_error", "forbidden", "belongs to no user");
  }

  @Test
  void memoryBankIsServedFromTheReplicaPersonalizesAnswersAndATombstoneErasesItAtOnce() throws Exception {
    String prompt = "Recommend a film for tonight.";
    HttpResponse<Buffer> first = http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, prompt, 12, false));
    assertEquals(200, first.statusCode(), first.bodyAsString());
    String interactionId = first.getHeader("x-marginal-interaction-id");
    Interaction interaction = cluster.await(Topics.INTERACTIONS, b -> MarginalSerdes.INTERACTION.deserialize(Topics.INTERACTIONS, b),
        i -> i.getInteractionId().equals(interactionId), Duration.ofSeconds(20));
    String preferred = "I recommend Inception.";
    MemoryBank bank = MemoryBank.newBuilder().setUserId("alice").setRevision(1).setUpdatedAt(Instant.now())
        .setEntries(List.of(BankEntry.newBuilder().setEntryId("e1").setInteractionId(interactionId).setFeedbackIds(List.of("f1"))
            .setInstanceEmbedding(interaction.getInstanceEmbedding()).setPrompt(prompt)
            .setModelResponse(interaction.getResponse()).setPreferredResponse(preferred).setWeight(5.0)
            .setTimestamp(Instant.now()).build()))
        .setTransitions(List.of(new TransitionCount(interaction.getResponse(), preferred, 5.0)))
        .build();
    // memory-banks.v2 carries one record per entry, as the streams app writes it
    cluster.send(Topics.MEMORY_BANKS, BankChanges.entryKey("alice", "e1"), BankChanges.SERDE.serialize(Topics.MEMORY_BANKS,
        BankChanges.upsert("alice", bank.getRevision(), bank.getUpdatedAt().toEpochMilli(), bank.getEntries().get(0))));

    JsonObject memory = awaitMemory(m -> m.getJsonArray("entries").size() == 1);
    assertEquals("alice", memory.getString("user_id"));
    assertEquals(1L, memory.getLong("revision"));
    assertEquals(preferred, memory.getJsonArray("entries").getJsonObject(0).getString("preferred_response"));

    HttpResponse<Buffer> personalized = http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, prompt, 12, false));
    JsonObject body = personalized.bodyAsJsonObject();
    assertEquals(preferred, body.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content"));
    assertTrue(body.getJsonObject("marginal").getBoolean("personalized"));
    String secondId = personalized.getHeader("x-marginal-interaction-id");
    Interaction second = cluster.await(Topics.INTERACTIONS, b -> MarginalSerdes.INTERACTION.deserialize(Topics.INTERACTIONS, b),
        i -> i.getInteractionId().equals(secondId), Duration.ofSeconds(20));
    assertTrue(second.getCandidates().size() >= 2, "greedy answer + the preferred response at least");
    assertTrue(second.getCandidates().stream().anyMatch(c -> c.getResponse().equals(interaction.getResponse())));
    assertTrue(second.getCandidates().stream().anyMatch(c -> c.getResponse().equals(preferred)));
    assertEquals(1.0, second.getCandidates().stream().mapToDouble(c -> c.getProbability()).sum(), 1e-6);

    HttpResponse<Buffer> streamed = http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, prompt, 12, true));
    assertEquals(preferred, Http.streamedText(streamed.bodyAsString()), "personalized answers stream too, chosen first");
    assertTrue(streamed.bodyAsString().endsWith("data: [DONE]\n\n"));

    cluster.send(Topics.MEMORY_BANKS, "alice", null);
    JsonObject erased = awaitMemory(m -> m.getJsonArray("entries").isEmpty());
    assertEquals(0L, erased.getLong("revision"));
    HttpResponse<Buffer> after = http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, prompt, 12, false));
    assertFalse(after.bodyAsJsonObject().getJsonObject("marginal").getBoolean("personalized"));
    assertEquals(interaction.getResponse(),
        after.bodyAsJsonObject().getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content"));
  }

  @Test
  void modelsListTheBaseModelAndOpsEndpointsAnswer() throws Exception {
    HttpResponse<Buffer> models = http.get("/v1/models", BOB_KEY);
    assertEquals(200, models.statusCode());
    JsonArray data = models.bodyAsJsonObject().getJsonArray("data");
    assertEquals(MODEL, data.getJsonObject(0).getString("id"));
    assertEquals("model", data.getJsonObject(0).getString("object"));
    assertEquals(MODEL + ":none", data.getJsonObject(1).getString("id"));
    assertEquals(MODEL, data.getJsonObject(0).getString("root"));
    assertTrue(data.getJsonObject(0).containsKey("parent") && data.getJsonObject(0).getValue("parent") == null, "the base has no parent");
    assertEquals(200, http.get("/v1/models/" + MODEL, BOB_KEY).statusCode());
    assertEquals(200, http.get("/health", null).statusCode());
    HttpResponse<Buffer> ready = http.get("/ready", null);
    assertEquals(200, ready.statusCode(), ready.bodyAsString());
    HttpResponse<Buffer> admin = http.get("/v1/adapters", ADMIN_KEY);
    assertEquals(200, admin.statusCode());
    assertEquals("node-api", admin.bodyAsJsonObject().getString("node_id"));
    io.marginal.metrics.PrometheusText before = http.metrics();
    HttpResponse<Buffer> chat = http.post("/v1/chat/completions", BOB_KEY, Http.chat(MODEL, "hello", 4, true));
    assertEquals(200, chat.statusCode(), chat.bodyAsString());
    String chatCounter = "marginal_http_requests_total";
    String[] chatOk = {"route", "/v1/chat/completions", "status", "200"};
    double chatsBefore = before.find(chatCounter, chatOk).orElse(0.0);
    io.marginal.metrics.PrometheusText after = http.metricsWhen(m -> m.find(chatCounter, chatOk).orElse(0.0) > chatsBefore);
    assertEquals(chatsBefore + 1, after.value(chatCounter, chatOk), "the chat was counted once");
    assertEquals(before.value("marginal_chat_request_duration_seconds_count") + 1, after.value("marginal_chat_request_duration_seconds_count"));
    assertEquals(before.value("marginal_time_to_first_token_seconds_count") + 1, after.value("marginal_time_to_first_token_seconds_count"));
    assertTrue(after.value("marginal_time_to_first_token_seconds_sum") > before.value("marginal_time_to_first_token_seconds_sum"));
    assertTrue(after.value("marginal_generated_tokens_total") > before.value("marginal_generated_tokens_total"));
    assertEquals("histogram", after.family("marginal_inter_token_latency_seconds").type());
    assertEquals("histogram", after.family("marginal_adapter_swap_seconds").type());
    assertTrue(after.value("marginal_http_requests_total", "route", "/metrics", "status", "200") >= 1);
    assertTrue(after.value("marginal_worker_queue_capacity") > 0);
    for (String sample : List.of("marginal_tokens_per_second", "marginal_worker_queue_depth", "marginal_requests_in_flight",
        "marginal_user_adapters_active", "marginal_user_adapter_cache_hits_total", "jvm_threads_live_threads", "process_cpu_usage")) {
      assertTrue(after.find(sample).isPresent(), "metrics lack " + sample + ": " + after.families().keySet());
    }
  }

  private static JsonObject awaitMemory(java.util.function.Predicate<JsonObject> done) {
    java.util.concurrent.atomic.AtomicReference<JsonObject> last = new java.util.concurrent.atomic.AtomicReference<>();
    try {
      return await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
        HttpResponse<Buffer> r = http.get("/v1/users/alice/memory", ALICE_KEY);
        assertEquals(200, r.statusCode(), r.bodyAsString());
        last.set(r.bodyAsJsonObject());
        return last.get();
      }, done::test);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("memory bank never reached the expected state; last: " + last.get(), e);
    }
  }

  static void assertError(HttpResponse<Buffer> r, int status, String type, String code, String messagePart) {
    assertEquals(status, r.statusCode(), r.bodyAsString());
    JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
    assertNotNull(error, r.bodyAsString());
    assertEquals(type, error.getString("type"), r.bodyAsString());
    assertEquals(code, error.getString("code"), r.bodyAsString());
    assertTrue(error.containsKey("param"), "OpenAI errors carry 'param' (possibly null)");
    assertTrue(error.getString("message").contains(messagePart), "'" + error.getString("message") + "' lacks '" + messagePart + "'");
  }
}
