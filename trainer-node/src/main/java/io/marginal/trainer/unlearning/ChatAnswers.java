package io.marginal.trainer.unlearning;

import io.marginal.model.LanguageModel;
import io.marginal.model.generate.BatchingEngine;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.generate.GenerationResult;
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

  public String base(String prompt) {
    return baseAnswers.computeIfAbsent(prompt,
        p -> model.chat(List.of(ChatMessage.user(p)), request, ActiveAdapters.NONE, null).text().strip());
  }
}
