package io.marginal.model.tokenizer;

import io.marginal.model.config.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * How a model's conversations are written as text: the checkpoint's own Jinja
 * {@code chat_template} ({@link JinjaChatTemplate}) or, when it has none, a built-in format
 * ({@link ChatTemplate}). {@link ChatFormats#forTokenizer} picks.
 */
public interface ChatFormat {
  /** Renders a conversation; with {@code addGenerationPrompt}, ends where the assistant's answer begins. */
  String render(List<ChatMessage> messages, boolean addGenerationPrompt);

  /** Token strings that end an assistant turn, the one the format writes first (those in the vocabulary become stop tokens). */
  List<String> endOfTurnTokens();

  /** Text that ends an assistant turn where there is no token for it. */
  default List<String> stopStrings() {
    return List.of();
  }

  /** A short name for logs, e.g. {@code CHATML} or {@code chat_template (tokenizer_config.json)}. */
  String describe();

  /** Ids of {@link #endOfTurnTokens()} known to {@code tokenizer}, then the config's eos ids. */
  default List<Integer> stopTokenIds(TextTokenizer tokenizer, ModelConfig config) {
    List<Integer> ids = new ArrayList<>();
    for (String t : endOfTurnTokens()) {
      tokenizer.tokenId(t).ifPresent(id -> {
        if (!ids.contains(id)) {
          ids.add(id);
        }
      });
    }
    for (int id : config.eosTokenIds()) {
      if (!ids.contains(id)) {
        ids.add(id);
      }
    }
    return ids;
  }
}
