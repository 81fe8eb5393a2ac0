package io.marginal.trainer.unlearning;

import io.marginal.model.LanguageModel;
import io.marginal.model.generate.BatchingEngine;
import io.marginal.model.generate.FinishReason;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.generate.GenerationResult;
import io.marginal.model.generate.TokenListener;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.scoring.Continuation;
import io.marginal.model.tokenizer.ChatMessage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Greedy single-turn answers of the chat model, the way the inference node would answer. The base
 * model's answers are cached: they are the reference for retain accuracy and the source of forget
 * targets, and the base never changes.
 *
 * <p>An adapter leaves most answers as the base model gives them (a masked adapter touches few
 * neurons). So before decoding with an adapter, each base answer is scored after its prompt in one
 * batched forward pass ({@link LanguageModel#greedyMargins}); where every token of it (and its stop
 * token) is still the adapted model's argmax by at least {@link #MARGIN}, greedy decoding would give
 * that same answer, and only the other prompts are decoded. The margin keeps the shortcut to the
 * decode's answer: the scoring pass and the KV-cached decode compute the same logits in a different
 * order, which moves them by float rounding (~1e-5), far below it.
 */
public final class ChatAnswers {

  /** Smallest lead of a base answer's tokens over the runner-up for the answer to count as unchanged without decoding. */
  static final float MARGIN = 0.05f;

  /** A base answer and the tokens it was decoded as. */
  private record Base(String text, int[] tokens, FinishReason reason) {
    static Base of(GenerationResult r) {
      return new Base(r.text().strip(), r.tokens(), r.finishReason());
    }
  }

  private final LanguageModel model;
  private final GenerationRequest request;
  private final Map<String, Base> baseAnswers = new ConcurrentHashMap<>();
  // Whole answers under the last adapter set seen, by its content key (ActiveAdapters.cacheKey: id, version and a
  // hash of the weights): the job's last early-stop check decodes the training prompts with the final adapter, and
  // the evaluation right after asks for them again.
  private String lastKey = "";
  private final Map<String, String> lastAnswers = new HashMap<>();

  public ChatAnswers(LanguageModel model, int maxNewTokens) {
    this.model = model;
    this.request = GenerationRequest.greedy(maxNewTokens);
  }

  public LanguageModel model() {
    return model;
  }

  public String answer(String prompt, ActiveAdapters adapters) {
    if (adapters == null || adapters.isEmpty()) {
      return base(prompt);
    }
    return model.chat(List.of(ChatMessage.user(prompt)), request, adapters, null).text().strip();
  }

  /**
   * The answers to {@code prompts}, decoded together by a continuous-batching engine (up to
   * {@link #BATCH} at a time): the same greedy tokens as one by one, a fraction of the time. Base
   * answers come from the cache, and the missing ones are batched and cached. With an adapter, the
   * prompts whose base answer it provably keeps are not decoded (see the class comment).
   */
  public List<String> answers(List<String> prompts, ActiveAdapters adapters) {
    List<String> distinct = prompts.stream().distinct().toList();
    cacheBase(distinct);
    if (adapters == null || adapters.isEmpty()) {
      return prompts.stream().map(p -> baseAnswers.get(p).text()).toList();
    }
    Map<String, String> got = new HashMap<>(known(adapters, distinct));
    List<String> unknown = distinct.stream().filter(p -> !got.containsKey(p)).toList();
    List<String> changed = new ArrayList<>();
    boolean[] kept = keepsBase(unknown, adapters);
    for (int i = 0; i < unknown.size(); i++) {
      if (kept[i]) {
        got.put(unknown.get(i), baseAnswers.get(unknown.get(i)).text());
      } else {
        changed.add(unknown.get(i));
      }
    }
    List<GenerationResult> decoded = generate(changed, adapters);
    for (int i = 0; i < changed.size(); i++) {
      got.put(changed.get(i), decoded.get(i).text().strip());
    }
    unknown.forEach(p -> remember(adapters, p, got.get(p)));
    return prompts.stream().map(got::get).toList();
  }

  /** The remembered whole answers to {@code prompts} under {@code adapters}, if it is the last adapter set seen. */
  private synchronized Map<String, String> known(ActiveAdapters adapters, List<String> prompts) {
    Map<String, String> out = new HashMap<>();
    if (adapters.cacheKey().equals(lastKey)) {
      prompts.stream().filter(lastAnswers::containsKey).forEach(p -> out.put(p, lastAnswers.get(p)));
    }
    return out;
  }

  /**
   * Drops the answers remembered under the last adapter set. A job calls it first: an identical adapter (the same
   * request again) would otherwise find its predecessor's answers, which is correct but not what a new request costs.
   */
  public synchronized void forgetAdapterAnswers() {
    lastKey = "";
    lastAnswers.clear();
  }

  private synchronized void remember(ActiveAdapters adapters, String prompt, String answer) {
    String key = adapters.cacheKey();
    if (!key.equals(lastKey)) {
      lastKey = key;
      lastAnswers.clear();
    }
    lastAnswers.put(prompt, answer);
  }

  /** Sequences decoded together by {@link #answers}. */
  static final int BATCH = 32;

  private void cacheBase(List<String> distinct) {
    List<String> missing = distinct.stream().filter(p -> !baseAnswers.containsKey(p)).toList();
    List<GenerationResult> generated = generate(missing, ActiveAdapters.NONE);
    for (int i = 0; i < missing.size(); i++) {
      baseAnswers.put(missing.get(i), Base.of(generated.get(i)));
    }
  }

  /**
   * Whether greedy decoding with {@code adapters} gives each prompt's base answer, token for token, by at least
   * {@link #MARGIN} at every token (false where that is not shown); the base answers must be cached.
   */
  boolean[] keepsBase(List<String> distinct, ActiveAdapters adapters) {
    boolean[] kept = new boolean[distinct.size()];
    List<Continuation> scored = new ArrayList<>();
    List<Boolean> stops = new ArrayList<>();
    List<Integer> index = new ArrayList<>();
    for (int i = 0; i < distinct.size(); i++) {
      Base b = baseAnswers.get(distinct.get(i));
      boolean stopped = b.reason() == FinishReason.STOP_TOKEN && !model.stopTokenIds().isEmpty();
      // a decode that reaches maxTokens stops after them whatever comes next; other endings (context length) are decoded
      if (stopped || b.reason() == FinishReason.MAX_TOKENS && b.tokens().length == request.maxTokens()) {
        scored.add(new Continuation(model.encodeChat(List.of(ChatMessage.user(distinct.get(i)))), b.tokens()));
        stops.add(stopped);
        index.add(i);
      }
    }
    boolean[] stopsAfter = new boolean[stops.size()];
    for (int j = 0; j < stopsAfter.length; j++) {
      stopsAfter[j] = stops.get(j);
    }
    float[] margins = model.greedyMargins(scored, stopsAfter, adapters);
    for (int j = 0; j < margins.length; j++) {
      kept[index.get(j)] = margins[j] >= MARGIN;
    }
    return kept;
  }

  private List<GenerationResult> generate(List<String> prompts, ActiveAdapters adapters) {
    if (prompts.isEmpty()) {
      return List.of();
    }
    if (prompts.size() == 1) {
      return List.of(model.chat(List.of(ChatMessage.user(prompts.get(0))), request, adapters, null));
    }
    try (BatchingEngine engine = model.newBatchingEngine(BATCH)) {
      List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
      for (String p : prompts) {
        futures.add(engine.submit(model.encodeChat(List.of(ChatMessage.user(p))), request, adapters, null));
      }
      return futures.stream().map(CompletableFuture::join).toList();
    }
  }

  /**
   * Whether the greedy answer to any of {@code prompts} {@link ParaphraseAugmenter#mentions mentions} {@code concept}:
   * the same decision as checking every answer of {@link #answers}, but a kept base answer that mentions it decides at
   * once, and decoding stops at the first answer whose text so far {@link ParaphraseAugmenter#settlesMention settles} a
   * mention, since one mention decides it. Answers that never mention it are decoded to the end, as {@link #answers} does.
   */
  public boolean anyMentions(List<String> prompts, String concept, ActiveAdapters adapters) {
    List<String> distinct = prompts.stream().distinct().toList();
    cacheBase(distinct);
    if (adapters == null || adapters.isEmpty()) {
      return distinct.stream().anyMatch(p -> ParaphraseAugmenter.mentions(baseAnswers.get(p).text(), concept));
    }
    Map<String, String> known = known(adapters, distinct);
    if (known.values().stream().anyMatch(a -> ParaphraseAugmenter.mentions(a, concept))) {
      return true;
    }
    List<String> unknown = distinct.stream().filter(p -> !known.containsKey(p)).toList();
    boolean[] kept = keepsBase(unknown, adapters);
    List<String> changed = new ArrayList<>();
    for (int i = 0; i < unknown.size(); i++) {
      String base = baseAnswers.get(unknown.get(i)).text();
      if (!kept[i]) {
        changed.add(unknown.get(i));
      } else if (ParaphraseAugmenter.mentions(base, concept)) {
        return true;
      } else {
        remember(adapters, unknown.get(i), base);
      }
    }
    if (changed.isEmpty()) {
      return false;
    }
    CompletableFuture<Boolean> decided = new CompletableFuture<>();
    if (changed.size() == 1) { // as generate(): one prompt runs on the single-sequence generator
      GenerationResult r = model.chat(List.of(ChatMessage.user(changed.get(0))), request, adapters, mentionWatcher(concept, decided));
      if (r.finishReason() != FinishReason.CANCELLED) {
        remember(adapters, changed.get(0), r.text().strip());
      }
      return decided.isDone() || ParaphraseAugmenter.mentions(r.text().strip(), concept);
    }
    try (BatchingEngine engine = model.newBatchingEngine(BATCH)) {
      List<CompletableFuture<?>> rows = new ArrayList<>();
      for (String p : changed) {
        rows.add(engine.submit(model.encodeChat(List.of(ChatMessage.user(p))), request, adapters, mentionWatcher(concept, decided))
            .thenAccept(r -> {
              if (r.finishReason() != FinishReason.CANCELLED) { // a whole answer, as answers() would decode it
                remember(adapters, p, r.text().strip());
              }
              if (ParaphraseAugmenter.mentions(r.text().strip(), concept)) {
                decided.complete(true);
              }
            }));
      }
      CompletableFuture.allOf(rows.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> {
        if (e != null) {
          decided.completeExceptionally(e);
        } else {
          decided.complete(false);
        }
      });
      return decided.join(); // closing the engine then drops the rows still decoding or waiting
    }
  }

  /** Follows one answer's text; settles {@code decided} at a settled mention and stops every row once it is settled. */
  private static TokenListener mentionWatcher(String concept, CompletableFuture<Boolean> decided) {
    StringBuilder text = new StringBuilder();
    return (tokenId, delta) -> {
      if (decided.isDone()) {
        return false;
      }
      text.append(delta);
      if (ParaphraseAugmenter.settlesMention(text, concept)) {
        decided.complete(true);
        return false;
      }
      return true;
    };
  }

  public String base(String prompt) {
    return baseAnswers.computeIfAbsent(prompt,
        p -> Base.of(model.chat(List.of(ChatMessage.user(p)), request, ActiveAdapters.NONE, null))).text();
  }
}
