package io.marginal.model.tokenizer;

/** One turn of a conversation; {@code role} is {@code system}, {@code user} or {@code assistant}. */
public record ChatMessage(String role, String content) {
  public ChatMessage {
    if (role == null || role.isBlank()) {
      throw new IllegalArgumentException("chat message role must not be blank");
    }
    content = content == null ? "" : content;
  }

  public static ChatMessage system(String content) {
    return new ChatMessage("system", content);
  }

  public static ChatMessage user(String content) {
    return new ChatMessage("user", content);
  }

  public static ChatMessage assistant(String content) {
    return new ChatMessage("assistant", content);
  }
}
