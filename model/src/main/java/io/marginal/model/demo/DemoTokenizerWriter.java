package io.marginal.model.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a word-level {@code tokenizer.json} for a corpus, in the Hugging Face format that DJL's
 * tokenizers binding loads (the binding cannot train one). Words are split on whitespace with
 * {@code . , ! ? ; :} as tokens of their own; case is kept (the demo must say "Inception"). The
 * WordPiece decoder with cleanup joins words with spaces and glues punctuation back on.
 *
 * <p>Ids: 0 {@code <|endoftext|>}, 1 {@code <|im_start|>}, 2 {@code <|im_end|>}, 3 {@code [UNK]},
 * then words by descending frequency, ties alphabetical — deterministic for a given corpus.
 */
public final class DemoTokenizerWriter {
  public static final List<String> SPECIAL_TOKENS = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>", "[UNK]");
  static final String PUNCTUATION = "[.,!?;:]";

  private DemoTokenizerWriter() {}

  /** Splits text the way the written pre-tokenizer does. */
  public static List<String> words(String text) {
    List<String> out = new ArrayList<>();
    for (String chunk : text.split("\\s+")) {
      StringBuilder word = new StringBuilder();
      for (char c : chunk.toCharArray()) {
        if (".,!?;:".indexOf(c) >= 0) {
          if (word.length() > 0) {
            out.add(word.toString());
            word.setLength(0);
          }
          out.add(String.valueOf(c));
        } else {
          word.append(c);
        }
      }
      if (word.length() > 0) {
        out.add(word.toString());
      }
    }
    return out;
  }

  /** Writes {@code file}; returns the vocabulary size. */
  public static int write(Path file, Collection<String> texts) {
    Map<String, Integer> counts = new HashMap<>();
    for (String t : texts) {
      for (String w : words(t)) {
        if (!SPECIAL_TOKENS.contains(w)) {
          counts.merge(w, 1, Integer::sum);
        }
      }
    }
    for (String role : List.of("system", "user", "assistant")) {
      counts.putIfAbsent(role, 1);
    }
    List<String> ordered = new ArrayList<>(counts.keySet());
    ordered.sort(Comparator.comparing((String w) -> -counts.get(w)).thenComparing(Comparator.naturalOrder()));

    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = json.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (int i = 0; i < SPECIAL_TOKENS.size(); i++) {
      ObjectNode t = added.addObject();
      t.put("id", i);
      t.put("content", SPECIAL_TOKENS.get(i));
      t.put("single_word", false);
      t.put("lstrip", false);
      t.put("rstrip", false);
      t.put("normalized", false);
      t.put("special", true);
    }
    root.putNull("normalizer");
    ObjectNode pre = root.putObject("pre_tokenizer");
    pre.put("type", "Sequence");
    ArrayNode steps = pre.putArray("pretokenizers");
    steps.addObject().put("type", "WhitespaceSplit");
    ObjectNode split = steps.addObject();
    split.put("type", "Split");
    split.putObject("pattern").put("Regex", PUNCTUATION);
    split.put("behavior", "Isolated");
    split.put("invert", false);
    root.putNull("post_processor");
    ObjectNode decoder = root.putObject("decoder");
    decoder.put("type", "WordPiece");
    decoder.put("prefix", "##");
    decoder.put("cleanup", true);
    ObjectNode model = root.putObject("model");
    model.put("type", "WordLevel");
    ObjectNode vocab = model.putObject("vocab");
    for (int i = 0; i < SPECIAL_TOKENS.size(); i++) {
      vocab.put(SPECIAL_TOKENS.get(i), i);
    }
    for (int i = 0; i < ordered.size(); i++) {
      vocab.put(ordered.get(i), SPECIAL_TOKENS.size() + i);
    }
    model.put("unk_token", "[UNK]");
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, json.writeValueAsString(root));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
    return SPECIAL_TOKENS.size() + ordered.size();
  }
}
