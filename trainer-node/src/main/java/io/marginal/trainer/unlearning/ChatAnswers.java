package io.marginal.trainer.unlearning;

import io.marginal.model.LanguageModel;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.tokenizer.ChatMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

  public List<String> answers(List<String> prompts, ActiveAdapters adapters) {
    List<String> out = new ArrayList<>(prompts.size());
    for (String p : prompts) {
      out.add(answer(p, adapters));
    }
    return out;
  }

  public String base(String prompt) {
    return baseAnswers.computeIfAbsent(prompt,
        p -> model.chat(List.of(ChatMessage.user(p)), request, ActiveAdapters.NONE, null).text().strip());
  }
}
