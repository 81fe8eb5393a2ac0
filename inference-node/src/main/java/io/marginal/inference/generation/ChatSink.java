package io.marginal.inference.generation;

import java.util.List;

/** Where a generation's output goes while it is produced (called on the model worker thread). */
public interface ChatSink {

  /** Once, after the adapters are leased and the prompt accepted, before any text. */
  void begin(List<String> adapterLabels, int promptTokens);

  /** A piece of the answer; returns false when nobody is listening any more (client gone). */
  boolean text(String delta);
}
