package io.marginal.model.tokenizer;

import java.util.List;

/**
 * Built-in chat formats, one per model family, for checkpoints whose tokenizer_config.json has no
 * {@code chat_template} (a checkpoint's own template is rendered by {@link JinjaChatTemplate}):
 * chosen by the special tokens the tokenizer has. Each renders messages to text and names the
 * token strings that end an assistant turn.
 */
public enum ChatTemplate implements ChatFormat {
  /** Qwen, SmolLM2 and the demo model: {@code <|im_start|>role\ncontent<|im_end|>\n}. */
  CHATML(List.of("<|im_end|>", "<|endoftext|>")) {
    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
      StringBuilder sb = new StringBuilder();
      for (ChatMessage m : messages) {
        sb.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
      }
      if (addGenerationPrompt) {
        sb.append("<|im_start|>assistant\n");
      }
      return sb.toString();
    }
  },
  /** Llama 3.x: header ids and {@code <|eot_id|>}. */
  LLAMA3(List.of("<|eot_id|>", "<|end_of_text|>")) {
    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
      StringBuilder sb = new StringBuilder("<|begin_of_text|>");
      for (ChatMessage m : messages) {
        sb.append("<|start_header_id|>").append(m.role()).append("<|end_header_id|>\n\n")
            .append(m.content().strip()).append("<|eot_id|>");
      }
      if (addGenerationPrompt) {
        sb.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
      }
      return sb.toString();
    }
  },
  /** Llama 2 / Mistral instruct: {@code <s>[INST] user [/INST] answer</s>}; a system message joins the first user turn. */
  INST(List.of("</s>")) {
    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
      StringBuilder sb = new StringBuilder();
      String system = null;
      for (ChatMessage m : messages) {
        switch (m.role()) {
          case "system" -> system = m.content();
          case "user" -> {
            String content = system == null ? m.content() : system + "\n\n" + m.content();
            system = null;
            sb.append("<s>[INST] ").append(content.strip()).append(" [/INST]");
          }
          default -> sb.append(' ').append(m.content().strip()).append("</s>");
        }
      }
      return sb.toString();
    }
  },
  /** Fallback for base models without chat tokens. */
  PLAIN(List.of()) {
    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
      StringBuilder sb = new StringBuilder();
      for (ChatMessage m : messages) {
        sb.append(capitalize(m.role())).append(": ").append(m.content()).append('\n');
      }
      if (addGenerationPrompt) {
        sb.append("Assistant:");
      }
      return sb.toString();
    }

    @Override
    public List<String> stopStrings() {
      return List.of("\nUser:");
    }
  };

  private final List<String> endOfTurnTokens;

  ChatTemplate(List<String> endOfTurnTokens) {
    this.endOfTurnTokens = endOfTurnTokens;
  }

  @Override
  public abstract String render(List<ChatMessage> messages, boolean addGenerationPrompt);

  @Override
  public List<String> endOfTurnTokens() {
    return endOfTurnTokens;
  }

  @Override
  public String describe() {
    return name() + " (built in)";
  }

  /**
   * Picks the built-in format whose special tokens the tokenizer has. {@code </s>} alone says
   * nothing about a chat format (every Llama-2/Mistral base model has it), so only an {@code [INST]}
   * token selects INST; a base model without chat tokens gets PLAIN.
   */
  public static ChatTemplate detect(TextTokenizer tokenizer) {
    if (tokenizer.tokenId("<|im_start|>").isPresent()) {
      return CHATML;
    }
    if (tokenizer.tokenId("<|start_header_id|>").isPresent()) {
      return LLAMA3;
    }
    if (tokenizer.tokenId("[INST]").isPresent()) {
      return INST;
    }
    return PLAIN;
  }

  private static String capitalize(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }
}
