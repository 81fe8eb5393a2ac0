package io.marginal.model.generate;

/** Receives each generated token as it is produced (called on the generating thread). */
@FunctionalInterface
public interface TokenListener {
  TokenListener NONE = (tokenId, textDelta) -> true;

  /**
   * @param tokenId the sampled token
   * @param textDelta the text this token adds (may be empty while a multi-token character or a
   *     possible stop string is pending; the concatenation of all deltas is the final text)
   * @return {@code false} to stop generating ({@link FinishReason#CANCELLED})
   */
  boolean onToken(int tokenId, String textDelta);
}
