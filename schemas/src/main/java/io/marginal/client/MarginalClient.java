package io.marginal.client;

import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import io.marginal.schemas.validation.DeletionRules;
import io.marginal.schemas.validation.FeedbackRules;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * How applications integrate: publish a user's feedback on an answer and a user's deletion
 * requests. Every call validates its input (with {@link FeedbackRules} and {@link DeletionRules}, the rules the HTTP API
 * and the streams app apply too), returns the new event's id once the broker has
 * acknowledged it, and keys the record by user id (so one user's events stay in order).
 *
 * <pre>{@code
 * try (MarginalClient client = MarginalClient.connect("localhost:9092")) {
 *   client.preferResponse("alice", interactionId, "Arrival").join();
 *   client.forgetConcept("alice", "Inception").join();
 * }
 * }</pre>
 */
public final class MarginalClient implements AutoCloseable {

  private final Producer<String, byte[]> producer;
  private final Topics topics;
  private final Clock clock;

  public MarginalClient(Producer<String, byte[]> producer, Topics topics, Clock clock) {
    this.producer = producer;
    this.topics = topics;
    this.clock = clock;
  }

  public static MarginalClient connect(String bootstrapServers) {
    return connect(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), Topics.defaults());
  }

  /** {@code clientConfig} carries bootstrap servers and any security settings of the cluster. */
  public static MarginalClient connect(Map<String, Object> clientConfig, Topics topics) {
    Map<String, Object> config = new HashMap<>(clientConfig);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "marginal-client");
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return new MarginalClient(new KafkaProducer<>(config), topics, Clock.systemUTC());
  }

  public CompletableFuture<String> thumbsUp(String userId, String interactionId) {
    return feedback(userId, interactionId, FeedbackKind.THUMBS_UP, null, null);
  }

  public CompletableFuture<String> thumbsDown(String userId, String interactionId) {
    return feedback(userId, interactionId, FeedbackKind.THUMBS_DOWN, null, null);
  }

  /** The user prefers {@code preferred} over what the model answered. */
  public CompletableFuture<String> preferResponse(String userId, String interactionId, String preferred) {
    return feedback(userId, interactionId, FeedbackKind.PREFERRED_RESPONSE, preferred, null);
  }

  /** The user corrects the answer with free text. */
  public CompletableFuture<String> correct(String userId, String interactionId, String correction) {
    return feedback(userId, interactionId, FeedbackKind.CORRECTION, correction, null);
  }

  /** A 1..5 rating of the answer. */
  public CompletableFuture<String> rate(String userId, String interactionId, int rating) {
    return feedback(userId, interactionId, FeedbackKind.RATING, null, rating);
  }

  /** Forget everything the system holds about this user. */
  public CompletableFuture<String> forgetAllMyData(String userId) {
    return deletion(userId, DeletionScope.ALL_USER_DATA, List.of(), null);
  }

  public CompletableFuture<String> forgetInteractions(String userId, List<String> interactionIds) {
    return deletion(userId, DeletionScope.INTERACTION, idsOf(interactionIds, "interaction ids"), null);
  }

  public CompletableFuture<String> forgetFeedback(String userId, List<String> feedbackIds) {
    return deletion(userId, DeletionScope.FEEDBACK, idsOf(feedbackIds, "feedback ids"), null);
  }

  /** Stop producing a concept (e.g. a film title) for this user; may train an adapter. */
  public CompletableFuture<String> forgetConcept(String userId, String concept) {
    return deletion(userId, DeletionScope.CONCEPT, List.of(), concept);
  }

  /** Revoke a preference the user expressed earlier (a preferred response). */
  public CompletableFuture<String> forgetPreference(String userId, String preferredResponse) {
    return deletion(userId, DeletionScope.PREFERENCE, List.of(), preferredResponse);
  }

  /** Publishes a fully built feedback event (for callers that set every field themselves). */
  public CompletableFuture<String> publish(Feedback feedback) {
    FeedbackRules.require(feedback);
    return send(topics.name(Topics.FEEDBACK), feedback.getUserId(), MarginalSerdes.FEEDBACK.serialize(Topics.FEEDBACK, feedback),
        feedback.getFeedbackId());
  }

  /** Publishes a fully built deletion request. */
  public CompletableFuture<String> publish(DeletionRequest request) {
    DeletionRules.require(request);
    return send(topics.name(Topics.DELETIONS), request.getUserId(),
        MarginalSerdes.DELETION_REQUEST.serialize(Topics.DELETIONS, request), request.getDeletionId());
  }

  private CompletableFuture<String> feedback(String userId, String interactionId, FeedbackKind kind, String preferred, Integer rating) {
    Feedback feedback = Feedback.newBuilder()
        .setFeedbackId(UUID.randomUUID().toString())
        .setUserId(requireText(userId, "user id"))
        .setInteractionId(requireText(interactionId, "interaction id"))
        .setTimestamp(clock.instant())
        .setKind(kind)
        .setPreferredResponse(preferred)
        .setRating(rating)
        .build();
    return publish(feedback);
  }

  private CompletableFuture<String> deletion(String userId, DeletionScope scope, List<String> ids, String concept) {
    DeletionRequest request = DeletionRequest.newBuilder()
        .setDeletionId(UUID.randomUUID().toString())
        .setUserId(requireText(userId, "user id"))
        .setTimestamp(clock.instant())
        .setScope(scope)
        .setTargetIds(ids)
        .setConcept(concept)
        .build();
    return publish(request);
  }

  private CompletableFuture<String> send(String topic, String key, byte[] value, String eventId) {
    CompletableFuture<String> result = new CompletableFuture<>();
    producer.send(new ProducerRecord<>(topic, key, value), (metadata, error) -> {
      if (error != null) {
        result.completeExceptionally(new IllegalStateException("event " + eventId + " was not stored on " + topic + ": " + error.getMessage(), error));
      } else {
        result.complete(eventId);
      }
    });
    return result;
  }

  private static String requireText(String value, String what) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(what + " must not be blank");
    }
    return value;
  }

  private static List<String> idsOf(List<String> ids, String what) {
    return new java.util.ArrayList<>(Objects.requireNonNull(ids, what)); // DeletionRules checks the ids themselves
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
