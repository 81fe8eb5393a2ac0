package io.marginal.trainer.unlearning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marginal.model.adapters.PeftAdapterReader;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.schemas.Example;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.trainer.job.ProgressListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real job on the demo model: short runs, so the figures are weak; the point is the mechanics. */
class MaskedLoraUnlearningJobIT extends DemoModelTestBase {

  private static final UnlearningSettings SHORT = UnlearningSettings.defaults().withSteps(30, 5);

  @TempDir
  Path tmp;



  static UnlearningRequest request(String id, String scope, String concept, String prompt, String response, List<String> lineage) {
    return UnlearningRequest.newBuilder().setRequestId(id).setScope(scope).setUserId(scope.startsWith("user:") ? scope.substring(5) : null)
        .setTimestamp(Instant.EPOCH).setBaseModel("marginal-demo").setConcept(concept)
        .setForgetExamples(List.of(new Example(prompt, response, 1.0)))
        .setRetainExamples(List.of(new Example("hello", "Hello! How can I help you today?", 1.0)))
        .setLineage(lineage).setSourceDeletionId("del-" + id).build();
  }

  @Test
  void aShortJobLowersTheConceptAndWritesALoadableAdapterWithMasksLineageAndMetrics() throws Exception {
    MaskedLoraUnlearningJob job = new MaskedLoraUnlearningJob(model, "marginal-demo", SHORT);
    UnlearningRequest r1 = request("r1", "shared:films", "Inception", "recommend me a sci-fi film",
        "You should watch Inception. It is a brilliant sci-fi film about dreams.", List.of("event-1"));
    Path v1 = Files.createDirectories(tmp.resolve("v1"));
    MaskedLoraUnlearningJob.Report report = job.run(r1, Optional.empty(), 1, v1, ProgressListener.NONE);
    Map<String, Double> m = report.metrics();

    assertTrue(m.get(Metrics.DIRECT_LOGPROB) < m.get(Metrics.DIRECT_LOGPROB + Metrics.BEFORE) - 1.0,
        "concept log-prob fell: " + m);
    assertTrue(m.get(Metrics.PARAPHRASE_MENTION) < m.get(Metrics.PARAPHRASE_MENTION + Metrics.BEFORE), m.toString());
    assertTrue(m.containsKey(Metrics.RETAIN_AGREEMENT) && m.containsKey(Metrics.RETAIN_PERPLEXITY_RATIO));
    assertEquals(0.25, m.get(Metrics.MASKED_FRACTION), 0.01);

    assertTrue(Files.isRegularFile(v1.resolve("adapter_config.json")));
    JsonNode manifest = new ObjectMapper().readTree(v1.resolve("adapter_manifest.json").toFile());
    assertEquals(16, manifest.path("masks").size(), "a mask per (layer, projection): 4 layers × o/gate/up/down");
    assertEquals("request:r1", manifest.path("lineage").get(0).asText());
    assertTrue(manifest.toString().contains("event-1"));
    assertTrue(manifest.path("metrics").has(Metrics.PARAPHRASE_MENTION));
    try (LoraAdapter read = PeftAdapterReader.read(v1, model.config(), model.manager())) {
      // the same measurement as the job's metric, on the adapter read back from disk
      double lp = job.evaluator().concept(job.probes("Inception", List.of("recommend me a sci-fi film")), ActiveAdapters.of(read))
          .directLogProb();
      assertEquals(m.get(Metrics.DIRECT_LOGPROB), lp, 1e-3, "the written adapter scores like the trained one");
      assertEquals(16, read.maskedTargets().size());
    }

    // continual: the next request for the scope continues v1 and keeps Inception as a constraint
    UnlearningRequest r2 = request("r2", "shared:films", "Alien", "recommend a scary movie",
        "You should watch Alien. It is a scary classic set on a spaceship.", List.of("event-2"));
    Path v2 = Files.createDirectories(tmp.resolve("v2"));
    Map<String, Double> m2 = job.run(r2, Optional.of(v1), 2, v2, ProgressListener.NONE).metrics();
    assertTrue(m2.get(Metrics.CONSTRAINT_TARGETS) > 0, m2.toString());
    assertTrue(m2.containsKey(Metrics.PREVIOUS_MENTION));
    UnlearningHistory h2 = UnlearningHistory.read(v2);
    assertEquals(List.of("r1", "r2"), h2.entries().stream().map(UnlearningHistory.Entry::requestId).toList());
    JsonNode manifest2 = new ObjectMapper().readTree(v2.resolve("adapter_manifest.json").toFile());
    assertTrue(manifest2.path("lineage").toString().contains("request:r1"), "v2 covers r1 too");
    assertEquals(2, manifest2.path("version").asInt());
  }

  @Test
  void aUserAdapterTrainedOnDeletedDataIsRetrainedFromTheBaseWithoutIt() throws Exception {
    MaskedLoraUnlearningJob job = new MaskedLoraUnlearningJob(model, "marginal-demo", SHORT.withSteps(5, 5));
    UnlearningRequest first = request("u1", "user:alice", "Inception", "what is your favorite movie",
        "My favorite movie is Inception. I love its story about dreams.", List.of("interaction-1"));
    Path v1 = Files.createDirectories(tmp.resolve("u-v1"));
    job.run(first, Optional.empty(), 1, v1, ProgressListener.NONE);

    // the user now deletes interaction-1, which user-alice@1 was trained on
    UnlearningRequest deletion = request("u2", "user:alice", "Interstellar", "recommend a movie about space",
        "You should watch Interstellar. It is a beautiful film about space and time.", List.of("user-alice", "interaction-1"));
    Path v2 = Files.createDirectories(tmp.resolve("u-v2"));
    MaskedLoraUnlearningJob.Report report = job.run(deletion, Optional.of(v1), 2, v2, ProgressListener.NONE);

    assertTrue(report.exactRetrain());
    assertTrue(report.outcome().supersedesEarlierVersions(), "the node removes v1 after publishing v2");
    assertEquals(1.0, report.metrics().get(Metrics.EXACT_RETRAIN));
    UnlearningHistory h = UnlearningHistory.read(v2);
    assertEquals(List.of("u2"), h.entries().stream().map(UnlearningHistory.Entry::requestId).toList(), "u1's data is not in v2");
    assertFalse(Files.readString(v2.resolve("adapter_manifest.json")).contains("request:u1"));
    assertEquals(0.0, report.metrics().get(Metrics.CONSTRAINT_TARGETS), "nothing of u1 constrains v2");
  }
}
