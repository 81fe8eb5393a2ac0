package io.marginal.trainer.unlearning;

import io.marginal.model.LanguageModel;
import io.marginal.model.generate.BatchingEngine;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.generate.GenerationResult;
import io.marginal.model.generate.TokenListener;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.tokenizer.ChatMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Greedy single-turn answers of the chat model, the way the inference node would answer. The base
 * model's answers are cached: they are the reference for retain accuracy and the source of forget
 * targets, and the base never changes.
 */
public final class ChatAnswers {

  private final LanguageModel model;
  private final GenerationRequest request;
  private final Map<String, String> baseAnswers = new ConcurrentHashMap<>();

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
   * answers come from the cache, and the missing ones are batched and cached.
   */
  public List<String> answers(List<String> prompts, ActiveAdapters adapters) {
    boolean base = adapters == null || adapters.isEmpty();
    if (base) {
      List<String> missing = prompts.stream().distinct().filter(p -> !baseAnswers.containsKey(p)).toList();
      List<String> generated = generate(missing, ActiveAdapters.NONE);
      for (int i = 0; i < missing.size(); i++) {
        baseAnswers.put(missing.get(i), generated.get(i));
      }
      return prompts.stream().map(baseAnswers::get).toList();
    }
    return generate(prompts, adapters);
  }

  /** Sequences decoded together by {@link #answers}. */
  static final int BATCH = 32;

  private List<String> generate(List<String> prompts, ActiveAdapters adapters) {
    if (prompts.isEmpty()) {
      return List.of();
    }
    if (prompts.size() == 1) {
      return List.of(model.chat(List.of(ChatMessage.user(prompts.get(0))), request, adapters, null).text().strip());
    }
    try (BatchingEngine engine = model.newBatchingEngine(BATCH)) {
      List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
      for (String p : prompts) {
        futures.add(engine.submit(model.encodeChat(List.of(ChatMessage.user(p))), request, adapters, null));
      }
      List<String> out = new ArrayList<>(prompts.size());
      for (CompletableFuture<GenerationResult> f : futures) {
        out.add(f.join().text().strip());
      }
      return out;
    }
  }

  /**
   * Whether the greedy answer to any of {@code prompts} {@link ParaphraseAugmenter#mentions mentions} {@code concept}:
   * the same decision as checking every answer of {@link #answers}, but decoding stops at the first answer whose text
   * so far {@link ParaphraseAugmenter#settlesMention settles} a mention, since one mention decides it. Answers that
   * never mention it are decoded to the end, as {@link #answers} does.
   */
  public boolean anyMentions(List<String> prompts, String concept, ActiveAdapters adapters) {
    if (adapters == null || adapters.isEmpty()) {
      return answers(prompts, ActiveAdapters.NONE).stream().anyMatch(a -> ParaphraseAugmenter.mentions(a, concept));
    }
    List<String> distinct = prompts.stream().distinct().toList();
    if (distinct.isEmpty()) {
      return false;
    }
    CompletableFuture<Boolean> decided = new CompletableFuture<>();
    if (distinct.size() == 1) { // as generate(): one prompt runs on the single-sequence generator
      String text = model.chat(List.of(ChatMessage.user(distinct.get(0))), request, adapters, mentionWatcher(concept, decided)).text();
      return decided.isDone() || ParaphraseAugmenter.mentions(text.strip(), concept);
    }
    try (BatchingEngine engine = model.newBatchingEngine(BATCH)) {
      List<CompletableFuture<?>> rows = new ArrayList<>();
      for (String p : distinct) {
        rows.add(engine.submit(model.encodeChat(List.of(ChatMessage.user(p))), request, adapters, mentionWatcher(concept, decided))
            .thenAccept(r -> {
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
        p -> model.chat(List.of(ChatMessage.user(p)), request, ActiveAdapters.NONE, null).text().strip());
  }
}
