package io.marginal.streams.topology;

import io.marginal.schemas.Candidate;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import io.marginal.schemas.Interaction;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Test record builders. Embeddings are tiny one-hot-ish vectors so that similarity is obvious. */
public final class Events {

  public static final long T0 = 1_700_000_000_000L;

  private Events() {
  }

  public static Interaction interaction(String user, String id, String prompt, String response, long ts) {
    return Interaction.newBuilder()
        .setInteractionId(id).setUserId(user).setTimestamp(Instant.ofEpochMilli(ts)).setNodeId("node-1")
        .setModel("marginal-tiny").setPrompt(prompt).setResponse(response)
        .setCandidates(List.of(new Candidate(response, 0.7), new Candidate(response + " (alt)", 0.3)))
        .setInstanceEmbedding(embedding(id.hashCode()))
        .setAdapterVersions(List.of())
        .build();
  }

  public static List<Float> embedding(int seed) {
    List<Float> e = new ArrayList<>();
    java.util.Random r = new java.util.Random(seed);
    double norm = 0;
    float[] v = new float[8];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
      norm += v[i] * v[i];
    }
    for (float f : v) {
      e.add((float) (f / Math.sqrt(norm)));
    }
    return e;
  }

  public static Feedback preferred(String user, String feedbackId, String interactionId, String preferred, long ts) {
    return feedback(user, feedbackId, interactionId, FeedbackKind.PREFERRED_RESPONSE, preferred, null, ts);
  }

  public static Feedback feedback(String user, String feedbackId, String interactionId, FeedbackKind kind,
                                  String preferred, Integer rating, long ts) {
    return Feedback.newBuilder()
        .setFeedbackId(feedbackId).setUserId(user).setInteractionId(interactionId)
        .setTimestamp(Instant.ofEpochMilli(ts)).setKind(kind).setPreferredResponse(preferred).setRating(rating)
        .build();
  }

  public static DeletionRequest deletion(String user, String id, DeletionScope scope, List<String> targets, String concept, long ts) {
    return DeletionRequest.newBuilder()
        .setDeletionId(id).setUserId(user).setTimestamp(Instant.ofEpochMilli(ts)).setScope(scope)
        .setTargetIds(targets).setConcept(concept).build();
  }
}
