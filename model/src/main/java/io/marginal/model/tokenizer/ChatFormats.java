package io.marginal.model.tokenizer;

/** Chooses a checkpoint's chat format. */
public final class ChatFormats {
  private ChatFormats() {}

  /**
   * The checkpoint's own {@code chat_template} from tokenizer_config.json when it has one (checked
   * by rendering a probe conversation, so a template this engine cannot run is refused at load);
   * otherwise the built-in format its special tokens suggest ({@link ChatTemplate#detect}).
   */
  public static ChatFormat forTokenizer(TextTokenizer tokenizer) {
    return tokenizer.settings().chatTemplate()
        .<ChatFormat>map(source -> JinjaChatTemplate.compile(source, tokenizer.settings()))
        .orElseGet(() -> ChatTemplate.detect(tokenizer));
  }
}
