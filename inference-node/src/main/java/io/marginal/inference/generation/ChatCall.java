package io.marginal.inference.generation;

import io.marginal.inference.adapters.AdapterSelection;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.tokenizer.ChatMessage;
import java.util.List;

/**
 * One validated chat completion request, ready for a model worker.
 *
 * @param interactionId  the id of the interaction record this answer becomes
 * @param userId         the authenticated user
 * @param modelName      the model name the client asked for (echoed back)
 * @param deadlineNanos  {@link System#nanoTime()} after which the request has timed out
 */
public record ChatCall(String interactionId, String userId, String modelName, List<ChatMessage> messages,
    GenerationRequest generation, AdapterSelection adapters, long deadlineNanos) {

  /** The last user message: the CM instance x. */
  public String instanceText() {
    for (int i = messages.size() - 1; i >= 0; i--) {
      if (messages.get(i).role().equals("user")) {
        return messages.get(i).content();
      }
    }
    return messages.get(messages.size() - 1).content();
  }

  /** The conversation as one string, for the interaction record. */
  public String promptText() {
    StringBuilder sb = new StringBuilder();
    for (ChatMessage m : messages) {
      if (sb.length() > 0) {
        sb.append('\n');
      }
      sb.append(m.role()).append(": ").append(m.content());
    }
    return sb.toString();
  }
}
