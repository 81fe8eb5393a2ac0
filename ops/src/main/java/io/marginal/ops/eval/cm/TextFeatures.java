package io.marginal.ops.eval.cm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Lower-cased word unigrams and bigrams; the shared tokenisation of the classifier and the embedder. */
final class TextFeatures {

  private TextFeatures() {
  }

  static Map<String, Integer> counts(String text) {
    String[] words = text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}']+");
    List<String> tokens = new ArrayList<>();
    String previous = null;
    for (String w : words) {
      if (w.isEmpty()) {
        continue;
      }
      tokens.add(w);
      if (previous != null) {
        tokens.add(previous + " " + w);
      }
      previous = w;
    }
    Map<String, Integer> counts = new HashMap<>();
    tokens.forEach(t -> counts.merge(t, 1, Integer::sum));
    return counts;
  }
}
