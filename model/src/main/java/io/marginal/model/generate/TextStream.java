package io.marginal.model.generate;

import io.marginal.model.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns generated ids into text deltas. Decodes the whole generation each time (decoders merge
 * across tokens: byte-level pieces, "##" word pieces, punctuation cleanup) and emits only the
 * stable new suffix: text ending in an incomplete character, or that could be the start of a
 * stop string, is held back until it is resolved.
 */
final class TextStream {
  private final TextTokenizer tokenizer;
  private final List<String> stopStrings;
  private final List<Integer> ids = new ArrayList<>();
  private String emitted = "";
  private String text = "";
  private boolean stopped;

  TextStream(TextTokenizer tokenizer, List<String> stopStrings) {
    this.tokenizer = tokenizer;
    this.stopStrings = stopStrings;
  }

  /** Adds a token; returns the text that may be shown now. */
  String push(int id) {
    ids.add(id);
    String full = tokenizer.decode(ids.stream().mapToInt(Integer::intValue).toArray());
    int cut = -1;
    for (String s : stopStrings) {
      int at = s.isEmpty() ? -1 : full.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at;
      }
    }
    if (cut >= 0) {
      stopped = true;
      text = full.substring(0, cut);
      return advance(text);
    }
    text = full;
    int stable = full.length() - heldBack(full);
    return advance(full.substring(0, stable));
  }

  private String advance(String visible) {
    if (visible.startsWith(emitted) && visible.length() > emitted.length()) {
      String delta = visible.substring(emitted.length());
      emitted = visible;
      return delta;
    }
    return "";
  }

  private int heldBack(String full) {
    if (full.endsWith("\uFFFD")) {
      return 1;
    }
    int hold = 0;
    for (String s : stopStrings) {
      for (int k = Math.min(s.length() - 1, full.length()); k > hold; k--) {
        if (full.endsWith(s.substring(0, k))) {
          hold = k;
          break;
        }
      }
    }
    return hold;
  }

  boolean stopped() {
    return stopped;
  }

  String text() {
    return text;
  }

  /** Text not yet emitted (held back at the end), or empty. */
  String remainder() {
    return text.startsWith(emitted) ? text.substring(emitted.length()) : "";
  }
}
