package io.marginal.trainer.unlearning;

import io.marginal.model.demo.DemoTokenizerWriter;
import java.util.List;
import java.util.Locale;

/** Word-level edit distance between two prompts (lower-cased, split as the demo tokenizer splits words). */
final class WordDistance {

  private WordDistance() {
  }

  static int between(String a, String b) {
    List<String> x = DemoTokenizerWriter.words(a.toLowerCase(Locale.ROOT));
    List<String> y = DemoTokenizerWriter.words(b.toLowerCase(Locale.ROOT));
    int[] prev = new int[y.size() + 1];
    int[] cur = new int[y.size() + 1];
    for (int j = 0; j <= y.size(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= x.size(); i++) {
      cur[0] = i;
      for (int j = 1; j <= y.size(); j++) {
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (x.get(i - 1).equals(y.get(j - 1)) ? 0 : 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[y.size()];
  }

  /** Whether {@code prompt} is at most one word away from any of {@code others}. */
  static boolean nearAny(String prompt, List<String> others) {
    return others.stream().anyMatch(o -> between(prompt, o) <= 1);
  }
}
