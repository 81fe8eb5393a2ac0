package io.marginal.inference;

import static org.awaitility.Awaitility.await;
import static io.marginal.inference.TestCluster.ADMIN_KEY;
import static io.marginal.inference.TestCluster.ALICE_KEY;
import static io.marginal.inference.TestCluster.BOB_KEY;
import static io.marginal.inference.TestCluster.MODEL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.ActivationState;
import io.marginal.schemas.AdapterActivation;
import io.marginal.schemas.AdapterPublished;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Live adapters: a shared adapter swapped while streams run (no failures, requests after the ACTIVE
 * acknowledgement use the new version), a corrupt version refused with REJECTED while the previous
 * keeps serving, and per-user adapters in a one-slot cache.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdapterSwapIT {

  static final String NODE = "node-swap";
  static TestCluster cluster;
  static InferenceNode node;
  static Http http;

  @BeforeAll
  static void start() throws Exception {
    cluster = new TestCluster();
    node = cluster.startNode(NODE, Map.of("MARGINAL_USER_ADAPTER_CACHE_BYTES", "1", "MARGINAL_WORKER_THREADS", "2"));
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

  static AdapterActivation awaitAck(String adapterId, int version, ActivationState state) {
    return cluster.await(Topics.ADAPTER_ACTIVATIONS,
        b -> MarginalSerdes.ADAPTER_ACTIVATION.deserialize(Topics.ADAPTER_ACTIVATIONS, b),
        a -> a.getNodeId().equals(NODE) && a.getAdapterId().equals(adapterId) && a.getVersion() == version && a.getState() == state,
        Duration.ofSeconds(30));
  }

  static Interaction interaction(String id) {
    return cluster.await(Topics.INTERACTIONS, b -> MarginalSerdes.INTERACTION.deserialize(Topics.INTERACTIONS, b),
        i -> i.getInteractionId().equals(id), Duration.ofSeconds(20));
  }

  @Test
  @Order(1)
  void swapUnderConcurrentStreamsFailsNothingAndLaterRequestsUseTheNewVersion() throws Exception {
    AdapterPublished v1 = cluster.publishAdapter("shared-films", "shared:films", 1, 11);
    AdapterActivation ack1 = awaitAck("shared-films", 1, ActivationState.ACTIVE);
    assertEquals(v1.getSha256(), ack1.getSha256());
    HttpResponse<Buffer> before = http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, "Recommend a film.", 4, false));
    assertTrue(before.getHeader("x-marginal-adapters").startsWith("shared-films@1:"), before.getHeader("x-marginal-adapters"));

    List<CompletableFuture<HttpResponse<Buffer>>> streams = new ArrayList<>();
    List<CompletableFuture<Long>> finishedAt = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      CompletableFuture<HttpResponse<Buffer>> f = http.postAsync("/v1/chat/completions", i % 2 == 0 ? ALICE_KEY : BOB_KEY,
          Http.chat(MODEL, "Tell me about film number " + i, 240, true)); // long enough to outlast the swap, batched or not
      streams.add(f);
      finishedAt.add(f.thenApply(r -> System.nanoTime()));
    }
    // The first streams are generating on v1 (their first token is out, so their lease is taken), whatever the load.
    double firstTokensBefore = http.metrics().value("marginal_time_to_first_token_seconds_count");
    await("a stream is generating on v1").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10))
        .until(() -> http.metrics().value("marginal_time_to_first_token_seconds_count") > firstTokensBefore);
    AdapterPublished v2 = cluster.publishAdapter("shared-films", "shared:films", 2, 22);
    AdapterActivation ack2 = awaitAck("shared-films", 2, ActivationState.ACTIVE);
    long ackSeenAt = System.nanoTime();
    assertEquals(v2.getSha256(), ack2.getSha256());
    assertTrue(ack2.getSwapLatencyMs() >= 0);

    HttpResponse<Buffer> after = http.post("/v1/chat/completions", BOB_KEY, Http.chat(MODEL, "Recommend a film.", 4, false));
    assertEquals(200, after.statusCode());
    String label = "shared-films@2:" + v2.getSha256().substring(0, 12);
    assertEquals(label, after.getHeader("x-marginal-adapters"));
    assertEquals(List.of(label), interaction(after.getHeader("x-marginal-interaction-id")).getAdapterVersions());

    int onV1 = 0;
    int finishedAfterAck = 0;
    for (int i = 0; i < streams.size(); i++) {
      HttpResponse<Buffer> r = streams.get(i).get(120, TimeUnit.SECONDS);
      assertEquals(200, r.statusCode(), r.bodyAsString());
      assertTrue(r.bodyAsString().endsWith("data: [DONE]\n\n"), "every stream completes");
      assertFalse(r.bodyAsString().contains("\"error\""), r.bodyAsString());
      String used = r.getHeader("x-marginal-adapters");
      assertTrue(used.startsWith("shared-films@1:") || used.startsWith("shared-films@2:"), used);
      List<String> recorded = interaction(r.getHeader("x-marginal-interaction-id")).getAdapterVersions();
      assertEquals(List.of(used), recorded, "a request runs on the version it started with, start to end");
      onV1 += used.startsWith("shared-films@1:") ? 1 : 0;
      finishedAfterAck += finishedAt.get(i).get() > ackSeenAt ? 1 : 0;
    }
    assertTrue(onV1 >= 1, "some streams started before the swap and finished on v1");
    assertTrue(finishedAfterAck >= 1, "streams were still running when the new version went live");
    assertEquals(2.0, http.metrics().value("marginal_adapter_active_version", "adapter_id", "shared-films", "scope", "shared:films"));
  }

  @Test
  @Order(2)
  void aCorruptVersionIsRejectedAndThePreviousVersionKeepsServing() throws Exception {
    AdapterPublished v3 = cluster.publishAdapterCorrupted("shared-films", "shared:films", 3, 33);
    AdapterActivation rejected = awaitAck("shared-films", 3, ActivationState.REJECTED);
    assertTrue(rejected.getReason().contains("adapter shared-films v3: sha256 mismatch (expected " + v3.getSha256()),
        rejected.getReason());
    assertTrue(rejected.getReason().endsWith("keeping version 2"), rejected.getReason());
    HttpResponse<Buffer> r = http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, "Recommend a film.", 4, false));
    assertEquals(200, r.statusCode());
    assertTrue(r.getHeader("x-marginal-adapters").startsWith("shared-films@2:"));
    JsonObject admin = http.get("/v1/adapters", ADMIN_KEY).bodyAsJsonObject();
    assertEquals(2, admin.getJsonArray("shared").getJsonObject(0).getInteger("version"));
    assertEquals(3, admin.getJsonObject("rejected").getJsonObject("shared-films").getInteger("version"));
    JsonObject models = http.get("/v1/models", ALICE_KEY).bodyAsJsonObject();
    assertTrue(models.encode().contains("\"id\":\"" + MODEL + ":shared-films\""));
    assertTrue(models.encode().contains("shared-films@2:"));
    JsonObject films = models.getJsonArray("data").stream().map(JsonObject.class::cast)
        .filter(m -> m.getString("id").equals(MODEL + ":shared-films")).findFirst().orElseThrow();
    assertEquals(MODEL, films.getString("parent"), "an adapter's parent is the base model, as vLLM lists LoRA modules");
    assertEquals(MODEL, films.getString("root"));

    // A manifest that names another base model is refused too.
    cluster.publishAdapterForOtherBase("shared-films", "shared:films", 4, 44);
    AdapterActivation other = awaitAck("shared-films", 4, ActivationState.REJECTED);
    assertTrue(other.getReason().contains("trained for base model 'llama-70b'"), other.getReason());
  }

  @Test
  @Order(3)
  void afterCompactionANewNodeStillFindsAndServesTheLastVerifiedVersion() throws Exception {
    // Regression: every version used to share the adapter id as key, so compaction kept only the
    // rejected v4 and a node started afterwards served no version at all.
    List<AdapterPublished> left = cluster.compactedView(Topics.ADAPTERS).values().stream()
        .map(b -> MarginalSerdes.ADAPTER_PUBLISHED.deserialize(Topics.ADAPTERS, b))
        .filter(a -> a.getAdapterId().equals("shared-films")).toList();
    assertEquals(List.of(1, 2, 3, 4), left.stream().map(AdapterPublished::getVersion).toList(),
        "compaction keeps every version of the adapter");

    // a second shared adapter, one that changes answers; the new node does not merge the shared adapters
    // into its batch weights, the first node does
    cluster.publishEffectiveAdapter("shared-style", "shared:style", 1, 77);
    awaitAck("shared-style", 1, ActivationState.ACTIVE);
    InferenceNode restarted = cluster.startNode("node-after-compaction", Map.of("MARGINAL_MERGE_SHARED_ADAPTERS", "false"));
    try (Http other = new Http(restarted.port())) {
      HttpResponse<Buffer> r = other.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, "Recommend a film.", 4, false));
      assertEquals(200, r.statusCode());
      assertTrue(r.getHeader("x-marginal-adapters").startsWith("shared-films@2:"), r.getHeader("x-marginal-adapters"));
      JsonObject admin = other.get("/v1/adapters", ADMIN_KEY).bodyAsJsonObject();
      assertEquals(4, admin.getJsonObject("rejected").getJsonObject("shared-films").getInteger("version"));
      await("the new node serves shared-style").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() ->
          other.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, "hi", 1, false)).getHeader("x-marginal-adapters")
              .contains("shared-style@1:"));
      assertEquals(List.of(), admin.getJsonArray("batch_engines").getJsonObject(0).getJsonArray("merged").getList());

      List<String> labels = List.of(other.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, "hi", 1, false))
          .getHeader("x-marginal-adapters").split(","));
      assertEquals(2, labels.size(), labels.toString());
      await("the first node merged both").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() ->
          http.get("/v1/adapters", ADMIN_KEY).bodyAsJsonObject().getJsonArray("batch_engines").getJsonObject(0).getJsonArray("merged")
              .getList().equals(labels));
      // merged or not, every kind of request gets the same greedy answer: both shared adapters, the bare model, one by name
      // (shared-films changes nothing: MODEL answers as MODEL:shared-style would, MODEL:shared-films as MODEL:none)
      Map<String, List<String>> answers = new HashMap<>();
      for (String model : List.of(MODEL, MODEL + ":none", MODEL + ":shared-films")) {
        for (String prompt : List.of("Recommend a film.", "What should I watch tonight?")) {
          String body = Http.chat(model, prompt, 12, false);
          HttpResponse<Buffer> merged = http.post("/v1/chat/completions", BOB_KEY, body);
          HttpResponse<Buffer> unmerged = other.post("/v1/chat/completions", BOB_KEY, body);
          assertEquals(200, merged.statusCode(), merged.bodyAsString());
          assertEquals(unmerged.getHeader("x-marginal-adapters"), merged.getHeader("x-marginal-adapters"));
          assertEquals(content(unmerged), content(merged), model + ": " + prompt);
          answers.computeIfAbsent(model, m -> new ArrayList<>()).add(content(merged));
        }
      }
      assertNotEquals(answers.get(MODEL), answers.get(MODEL + ":none"), "shared-style changes the answers");
    } finally {
      restarted.close();
    }
  }

  private static String content(HttpResponse<Buffer> r) {
    return r.bodyAsJsonObject().getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
  }

  @Test
  @Order(4)
  void userAdaptersApplyToTheirOwnerOnlyAndSurviveEvictionFromAOneSlotCache() throws Exception {
    cluster.publishAdapter("user-alice", "user:alice", 1, 55);
    awaitAck("user-alice", 1, ActivationState.ACTIVE);
    HttpResponse<Buffer> alice = http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, "Hello there.", 4, false));
    assertTrue(alice.getHeader("x-marginal-adapters").contains("user-alice@1:"), alice.getHeader("x-marginal-adapters"));
    HttpResponse<Buffer> bob = http.post("/v1/chat/completions", BOB_KEY, Http.chat(MODEL, "Hello there.", 4, false));
    assertFalse(bob.getHeader("x-marginal-adapters").contains("user-alice"));
    InferenceApiIT.assertError(http.post("/v1/chat/completions", BOB_KEY, Http.chat(MODEL + ":user-alice", "hi", 4, false)),
        404, "invalid_request_error", "model_not_found", "user-alice");
    HttpResponse<Buffer> only = http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL + ":user-alice", "hi", 4, false));
    assertTrue(only.getHeader("x-marginal-adapters").startsWith("user-alice@1:"));
    assertFalse(only.getHeader("x-marginal-adapters").contains("shared-films"));
    HttpResponse<Buffer> bare = http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL + ":none", "hi", 4, false));
    assertEquals("", bare.getHeader("x-marginal-adapters"));

    cluster.publishAdapter("user-bob", "user:bob", 1, 66); // evicts alice's from the single slot
    awaitAck("user-bob", 1, ActivationState.ACTIVE);
    HttpResponse<Buffer> again = http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, "Hello there.", 4, false));
    assertEquals(200, again.statusCode());
    assertTrue(again.getHeader("x-marginal-adapters").contains("user-alice@1:"));
    JsonObject cache = http.get("/v1/adapters", ADMIN_KEY).bodyAsJsonObject().getJsonObject("user_cache");
    assertEquals(1, cache.getInteger("loaded"));
    assertTrue(cache.getLong("evictions") >= 2, cache.encode());
    // alice's adapter was loaded again: by the prefetch her request started, or by a miss on the worker
    assertTrue(cache.getLong("misses") + cache.getLong("prefetches") >= 1, cache.encode());

    // Metrics count per-user adapters but never name their users, and only the operator reads them.
    assertEquals(2.0, http.metrics().value("marginal_user_adapters_active"));
    String metrics = http.get("/metrics", ADMIN_KEY).bodyAsString();
    assertFalse(metrics.contains("alice") || metrics.contains("bob"), metrics);
    assertEquals(401, http.get("/metrics", null).statusCode());
    assertEquals(403, http.get("/metrics", ALICE_KEY).statusCode());
  }
}
