package io.marginal.model.tokenizer;

import io.marginal.model.CheckpointException;
import java.util.Arrays;

/**
 * Whether raw text gets a BOS token, as transformers decides for {@code tokenizer(text)}: an explicit
 * {@code add_bos_token} in tokenizer_config.json wins (the fast tokenizers rebuild their
 * post-processor from it); otherwise whatever tokenizer.json's post-processor puts before the text
 * (Llama 3's {@code TemplateProcessing} adds {@code <|begin_of_text|>}; Qwen2's ByteLevel and the
 * demo model's absent post-processor add nothing).
 */
final class BosPolicy {
  private static final String PROBE = "Hello world";

  private BosPolicy() {}

  /** The BOS id raw text starts with, or -1. */
  static int bosTokenId(TextTokenizer tokenizer, TokenizerSettings settings) {
    if (settings.addBosToken().isPresent()) {
      if (!settings.addBosToken().get()) {
        return -1;
      }
      if (settings.bosToken().isPresent()) {
        return tokenizer.tokenId(settings.bosToken().get()).orElseThrow(() -> new CheckpointException(
            TokenizerSettings.FILE_NAME + ": add_bos_token is true but bos_token '" + settings.bosToken().get()
                + "' is not in tokenizer.json; fix bos_token or set add_bos_token to false"));
      }
      int fromPostProcessor = postProcessorPrefix(tokenizer);
      if (fromPostProcessor < 0) {
        throw new CheckpointException(TokenizerSettings.FILE_NAME + ": add_bos_token is true but no bos_token is"
            + " named; add \"bos_token\" or set add_bos_token to false");
      }
      return fromPostProcessor;
    }
    return postProcessorPrefix(tokenizer);
  }

  /** The single token tokenizer.json's post-processor puts before a text, or -1. */
  private static int postProcessorPrefix(TextTokenizer tokenizer) {
    int[] plain = tokenizer.encode(PROBE);
    int[] processed = tokenizer.encodeWithPostProcessor(PROBE);
    if (processed.length > plain.length
        && Arrays.equals(Arrays.copyOfRange(processed, 1, 1 + plain.length), plain)) {
      return processed[0];
    }
    return -1;
  }
}
