package io.marginal.inference.generation;

import io.marginal.inference.adapters.AdapterLease;
import io.marginal.inference.adapters.AdapterRegistry;
import io.marginal.inference.kafka.EventPublisher;
import io.marginal.inference.metrics.NodeMetrics;
import io.marginal.inference.personalization.CmSelector;
import io.marginal.inference.personalization.MemoryBankReplica;
import io.marginal.model.LanguageModel;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.generate.GenerationResult;
import io.marginal.model.generate.TokenListener;
import io.marginal.model.scoring.Continuation;
import io.marginal.schemas.Candidate;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.MemoryBank;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers one chat request on a model worker thread: takes the adapter lease (the versions this
 * request runs with, whatever swaps happen meanwhile), embeds the instance, and then either
 * streams the model's tokens straight through (empty memory bank) or builds the CM candidate set
 * (greedy answer + seeded samples + the user's preferred responses from nearby bank entries),
 * scores it under the model, marginalizes through the bank, and sends the chosen answer in chunks.
 * Every completed answer is published to the interactions topic.
 */
public final class ChatService {

  private static final Logger LOG = LoggerFactory.getLogger(ChatService.class);
  /** Bank entries below this cosine similarity are not "nearby" (the estimator's default floor). */
  private static final double NEARBY = 0.1;

  /** The knobs this service needs from the node configuration. */
  public record Settings(String nodeId, String modelId, int maxPromptTokens, int cmSamples, int cmBankCandidates) {}

  private final LanguageModel model;
  private final TextGeneration generation;
  private final AdapterRegistry adapters;
  private final MemoryBankReplica banks;
  private final CmSelector selector;
  private final EventPublisher publisher;
  private final NodeMetrics metrics;
  private final Settings settings;

  public ChatService(LanguageModel model, TextGeneration generation, AdapterRegistry adapters, MemoryBankReplica banks,
      CmSelector selector, EventPublisher publisher, NodeMetrics metrics, Settings settings) {
    this.model = model;
    this.generation = generation;
    this.adapters = adapters;
    this.banks = banks;
    this.selector = selector;
    this.publisher = publisher;
    this.metrics = metrics;
    this.settings = settings;
  }

  public LanguageModel model() {
    return model;
  }

  /** Runs {@code call}; blocking — only on a model worker. */
  public ChatOutcome answer(ChatCall call, ChatSink sink) {
    if (System.nanoTime() > call.deadlineNanos()) {
      throw new RequestTimeoutException("request " + call.interactionId() + " waited in the queue past its deadline;"
          + " the node is overloaded, retry later or raise MARGINAL_REQUEST_TIMEOUT");
    }
    int[] prompt = model.encodeChat(call.messages());
    if (prompt.length > settings.maxPromptTokens()) {
      throw new PromptTooLongException("the conversation is " + prompt.length + " tokens; this node accepts at most "
          + settings.maxPromptTokens() + " prompt tokens (MARGINAL_MAX_PROMPT_TOKENS); shorten the messages");
    }
    try (AdapterLease lease = adapters.lease(call.userId(), call.adapters())) {
      long start = System.nanoTime();
      // the embedding is needed to personalize and to record the interaction, not to start decoding:
      // with an embedding thread it runs while this request's first tokens are decoded
      CompletableFuture<float[]> embedding = generation.embedAsync(call.instanceText());
      Optional<MemoryBank> bank = banks.bankOf(call.userId()).filter(b -> !b.getEntries().isEmpty());
      sink.begin(lease.labels(), prompt.length);
      Deadline watch = new Deadline(call.deadlineNanos(), sink, metrics);
      String text;
      String finish;
      List<Candidate> candidates;
      int completionTokens;
      boolean personalized = bank.isPresent();
      if (!personalized) {
        GenerationResult r = generation.generate(prompt, call.generation(), lease.active(), watch);
        text = r.text();
        finish = r.finishReason().openAiName();
        completionTokens = r.tokens().length;
        candidates = List.of(new Candidate(text, 1.0));
      } else {
        Personalized p = personalize(call, prompt, lease, bank.get(), TextGeneration.join(embedding), watch);
        text = p.text;
        finish = p.finish;
        completionTokens = model.tokenizer().encode(text).length;
        candidates = p.candidates;
        if (!watch.expired() && !watch.gone()) {
          for (String chunk : chunks(text)) {
            if (!sink.text(chunk)) {
              watch.clientGone = true;
              break;
            }
          }
        }
        metrics.personalized();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      metrics.generated(completionTokens, seconds);
      ChatOutcome.Ended ended = watch.expired() ? ChatOutcome.Ended.TIMED_OUT
          : watch.gone() ? ChatOutcome.Ended.CLIENT_GONE : ChatOutcome.Ended.COMPLETED;
      Interaction interaction = null;
      CompletableFuture<?> recorded = CompletableFuture.completedFuture(null);
      if (ended == ChatOutcome.Ended.COMPLETED) {
        interaction = Interaction.newBuilder()
            .setInteractionId(call.interactionId())
            .setUserId(call.userId())
            .setTimestamp(Instant.now())
            .setNodeId(settings.nodeId())
            .setModel(settings.modelId())
            .setPrompt(call.promptText())
            .setResponse(text)
            .setCandidates(candidates)
            .setInstanceEmbedding(toList(TextGeneration.join(embedding)))
            .setAdapterVersions(lease.labels())
            .build();
        recorded = publisher.interaction(interaction).whenComplete((m, e) -> {
          metrics.interactionPublished(e == null);
          if (e != null) {
            LOG.error("interaction {} of user {} not recorded: {}", call.interactionId(), call.userId(), e.toString());
          }
        });
      }
      LOG.debug("interaction {} user {} adapters {} personalized={} tokens={} in {} s ({})", call.interactionId(),
          call.userId(), lease.labels(), personalized, completionTokens, seconds, ended);
      return new ChatOutcome(text, finish, ended, prompt.length, completionTokens, lease.labels(), personalized,
          candidates.size(), seconds, interaction, recorded);
    }
  }

  private record Personalized(String text, String finish, List<Candidate> candidates) {}

  private Personalized personalize(ChatCall call, int[] prompt, AdapterLease lease, MemoryBank bank, float[] x, Deadline watch) {
    GenerationRequest g = call.generation();
    LinkedHashSet<String> pool = new LinkedHashSet<>();
    // the greedy answer and the samples decode as one group: one prefill, rows of the same batch
    List<GenerationRequest> requests = new ArrayList<>();
    requests.add(new GenerationRequest(g.maxTokens(), 0, 1, g.seed(), g.stopStrings(), null));
    double sampleTemperature = g.temperature() > 0 ? g.temperature() : 0.8;
    for (int i = 0; i < settings.cmSamples(); i++) {
      requests.add(new GenerationRequest(g.maxTokens(), sampleTemperature, g.topP(), g.seed() + 1 + i, g.stopStrings(), null));
    }
    List<GenerationResult> results = generation.generateGroup(prompt, requests, lease.active(), watch.silent());
    GenerationResult greedy = results.get(0);
    results.forEach(r -> pool.add(r.text()));
    String finish = greedy.finishReason().openAiName();
    pool.addAll(CmSelector.preferredNearby(bank, x, settings.cmBankCandidates(), NEARBY));
    List<String> candidates = new ArrayList<>(pool);
    List<Continuation> items = candidates.stream().map(c -> model.chatContinuation(call.messages(), c)).toList();
    double[] logProbs = model.logProbs(items, lease.active());
    CmSelector.Choice choice = selector.choose(bank, x, candidates, logProbs, g.temperature(), g.seed());
    List<Candidate> recorded = new ArrayList<>();
    for (Map.Entry<String, Double> e : choice.base().entrySet()) {
      recorded.add(new Candidate(e.getKey(), e.getValue()));
    }
    String answer = choice.answer();
    return new Personalized(answer, answer.equals(greedy.text()) ? finish : "stop", recorded);
  }

  /** The answer cut after each whitespace run, so chunks concatenate back to it exactly. */
  static List<String> chunks(String text) {
    List<String> out = new ArrayList<>();
    int from = 0;
    for (int i = 0; i < text.length(); i++) {
      if (Character.isWhitespace(text.charAt(i)) && (i + 1 == text.length() || !Character.isWhitespace(text.charAt(i + 1)))) {
        out.add(text.substring(from, i + 1));
        from = i + 1;
      }
    }
    if (from < text.length()) {
      out.add(text.substring(from));
    }
    return out;
  }

  private static List<Float> toList(float[] x) {
    List<Float> out = new ArrayList<>(x.length);
    for (float v : x) {
      out.add(v);
    }
    return out;
  }

  /** Stops generation when the deadline passes or the client goes away; forwards text to the sink. */
  private static final class Deadline implements TokenListener {
    private final long deadlineNanos;
    private final ChatSink sink;
    private volatile boolean timedOut;
    private volatile boolean clientGone;
    private final NodeMetrics metrics;
    private long lastTokenNanos;

    Deadline(long deadlineNanos, ChatSink sink, NodeMetrics metrics) {
      this.deadlineNanos = deadlineNanos;
      this.sink = sink;
      this.metrics = metrics;
    }

    @Override
    public boolean onToken(int tokenId, String textDelta) {
      long now = System.nanoTime();
      if (lastTokenNanos != 0) {
        metrics.interTokenGap(now - lastTokenNanos);
      }
      lastTokenNanos = now;
      if (now > deadlineNanos) {
        timedOut = true;
        return false;
      }
      if (!textDelta.isEmpty() && !sink.text(textDelta)) {
        clientGone = true;
        return false;
      }
      return true;
    }

    /** The same limits, without forwarding text (candidates are not shown while scoring). */
    TokenListener silent() {
      return (id, delta) -> {
        if (System.nanoTime() > deadlineNanos) {
          timedOut = true;
          return false;
        }
        return true;
      };
    }

    boolean expired() {
      return timedOut;
    }

    boolean gone() {
      return clientGone;
    }
  }
}
