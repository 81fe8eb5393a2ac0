package io.marginal.model.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marginal.model.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Hugging Face {@code tokenizer.json} through DJL's tokenizers binding, always loaded from a
 * local file (never the hub). {@link #encode} adds no special tokens (chat templates write them as
 * text); {@link #encodeText} is what transformers' {@code tokenizer(text)} gives, i.e. with the BOS
 * token when this tokenizer adds one ({@link BosPolicy}). Token-to-id lookups come from the JSON
 * itself because the binding has no such call. Thread-safe (the native tokenizer is immutable).
 */
public final class TextTokenizer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TextTokenizer.class);

  private final HuggingFaceTokenizer tokenizer;
  private final Map<String, Integer> specialTokens;
  private final Map<String, Integer> vocab;
  private final Set<Integer> specialIds;
  private final int vocabSize;
  private final TokenizerSettings settings;
  private final int bosId;
  /** Every character of the vocabulary's tokens, when it has an unknown token (word-level, WordPiece); empty otherwise. */
  private Set<Integer> alphabet = Set.of();

  private TextTokenizer(HuggingFaceTokenizer tokenizer, Map<String, Integer> specialTokens, Map<String, Integer> vocab,
      int vocabSize, TokenizerSettings settings) {
    this.tokenizer = tokenizer;
    this.specialTokens = Collections.unmodifiableMap(specialTokens);
    this.vocab = vocab;
    this.specialIds = Set.copyOf(new HashSet<>(specialTokens.values()));
    this.vocabSize = vocabSize;
    this.settings = settings;
    this.bosId = BosPolicy.bosTokenId(this, settings);
  }

  /**
   * Loads {@code dir/tokenizer.json} (or {@code dir} itself when it is the file), with
   * {@code tokenizer_config.json} beside it when present.
   */
  public static TextTokenizer load(Path dirOrFile) {
    Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve("tokenizer.json") : dirOrFile;
    if (!Files.isRegularFile(file)) {
      throw new CheckpointException("checkpoint " + dirOrFile + ": tokenizer.json not found"
          + " (only the Hugging Face fast-tokenizer format is supported; tokenizer.model alone is not)");
    }
    try {
      JsonNode root = new ObjectMapper().readTree(file.toFile());
      Map<String, Integer> special = new HashMap<>();
      Map<String, Integer> vocab = new HashMap<>();
      int maxId = -1;
      for (JsonNode t : root.path("added_tokens")) {
        int id = t.path("id").asInt();
        if (t.path("special").asBoolean(true)) {
          special.put(t.path("content").asText(), id);
        }
        vocab.put(t.path("content").asText(), id);
        maxId = Math.max(maxId, id);
      }
      JsonNode modelVocab = root.path("model").path("vocab");
      if (modelVocab.isObject()) {
        for (var it = modelVocab.fields(); it.hasNext(); ) {
          var e = it.next();
          vocab.putIfAbsent(e.getKey(), e.getValue().asInt());
          maxId = Math.max(maxId, e.getValue().asInt());
        }
      } else if (modelVocab.isArray()) {
        maxId = Math.max(maxId, modelVocab.size() - 1);
      }
      TokenizerSettings settings = TokenizerSettings.read(file.toAbsolutePath().getParent());
      HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(file, Map.of(
          "addSpecialTokens", "false", "truncation", "false", "padding", "false"));
      TextTokenizer tokenizer;
      try {
        tokenizer = new TextTokenizer(hf, special, vocab, maxId + 1, settings);
      } catch (CheckpointException e) {
        hf.close();
        throw new CheckpointException("checkpoint " + dirOrFile + ": " + e.getMessage(), e);
      } catch (RuntimeException e) {
        hf.close();
        throw e;
      }
      String unk = root.path("model").path("unk_token").asText("");
      boolean byteFallback = root.path("model").path("byte_fallback").asBoolean(false);
      if (!unk.isEmpty() && vocab.containsKey(unk) && !byteFallback) {
        Set<Integer> letters = new HashSet<>();
        vocab.keySet().forEach(token -> token.codePoints().forEach(letters::add));
        tokenizer.alphabet = Set.copyOf(letters);
      }
      if (tokenizer.bosId >= 0) {
        LOG.info("tokenizer {}: raw text starts with BOS id {} ({}), as transformers' tokenizer(text) does", file,
            tokenizer.bosId, settings.addBosToken().isPresent() ? "add_bos_token in tokenizer_config.json" : "post-processor");
      }
      return tokenizer;
    } catch (CheckpointException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new CheckpointException("checkpoint " + dirOrFile + ": cannot load tokenizer.json: " + e.getMessage(), e);
    }
  }

  /**
   * Token ids of raw text as transformers' {@code tokenizer(text)} gives them: with the BOS token in
   * front when this tokenizer adds one (Llama 2/3, Mistral), else the same as {@link #encode}.
   */
  public int[] encodeText(String text) {
    int[] ids = encode(text);
    if (bosId < 0) {
      return ids;
    }
    int[] out = new int[ids.length + 1];
    out[0] = bosId;
    System.arraycopy(ids, 0, out, 1, ids.length);
    return out;
  }

  /** The id {@link #encodeText} puts in front of raw text, if any. */
  public OptionalInt bosTokenId() {
    return bosId < 0 ? OptionalInt.empty() : OptionalInt.of(bosId);
  }

  /** What {@code tokenizer_config.json} says (empty settings when there is none). */
  public TokenizerSettings settings() {
    return settings;
  }

  /** Ids of {@code text} with the tokenizer.json post-processor applied (its template's special tokens). */
  int[] encodeWithPostProcessor(String text) {
    long[] ids = tokenizer.encode(text, true, false).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = (int) ids[i];
    }
    return out;
  }

  /** Token ids of {@code text}, without any special tokens added. */
  public int[] encode(String text) {
    long[] ids = tokenizer.encode(text, false, false).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = (int) ids[i];
    }
    return out;
  }

  /**
   * The characters of {@code text} that no token of the vocabulary contains, so that the model can
   * only ever read them as its unknown token — none for a tokenizer without one (byte-level BPE
   * represents every byte). A word-level vocabulary turned 14,000 characters of é and 中 into one
   * unknown token; callers use this to say so instead of answering a prompt the model never saw. (An
   * unknown word made of known letters is not counted: that is ordinary for a small vocabulary.)
   */
  public String unrepresentableCharacters(String text) {
    if (alphabet.isEmpty()) {
      return "";
    }
    StringBuilder out = new StringBuilder();
    text.codePoints().filter(c -> !Character.isWhitespace(c) && !alphabet.contains(c)).forEach(out::appendCodePoint);
    return out.toString();
  }

  /** Text of {@code ids}, special tokens skipped. */
  public String decode(int[] ids) {
    return decode(ids, true);
  }

  public String decode(int[] ids, boolean skipSpecialTokens) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      l[i] = ids[i];
    }
    return tokenizer.decode(l, skipSpecialTokens);
  }

  /** The id of a token string (special or regular), if the vocabulary has it. */
  public OptionalInt tokenId(String token) {
    Integer id = specialTokens.get(token);
    if (id == null) {
      id = vocab.get(token);
    }
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  public boolean isSpecial(int id) {
    return specialIds.contains(id);
  }

  /** Special (added) tokens by content. */
  public Map<String, Integer> specialTokens() {
    return specialTokens;
  }

  /** One more than the largest id the tokenizer can produce. */
  public int vocabSize() {
    return vocabSize;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
