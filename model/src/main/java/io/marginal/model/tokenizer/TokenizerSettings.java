package io.marginal.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marginal.model.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What a checkpoint's {@code tokenizer_config.json} says about special tokens and chat rendering:
 * {@code chat_template} (a string, or the list form whose {@code "default"} entry is used),
 * {@code add_bos_token}, and the special token strings a template may refer to. All optional;
 * {@link #NONE} when the file is absent (the demo model has none).
 *
 * @param chatTemplate the Jinja chat template, if given
 * @param addBosToken an explicit {@code add_bos_token}, if given
 */
public record TokenizerSettings(Optional<String> chatTemplate, Optional<Boolean> addBosToken, Optional<String> bosToken,
    Optional<String> eosToken, Optional<String> unkToken, Optional<String> padToken) {
  public static final String FILE_NAME = "tokenizer_config.json";
  public static final TokenizerSettings NONE = new TokenizerSettings(Optional.empty(), Optional.empty(), Optional.empty(),
      Optional.empty(), Optional.empty(), Optional.empty());

  /** Reads {@code dir/tokenizer_config.json}, or {@link #NONE} when there is none. */
  public static TokenizerSettings read(Path dir) {
    Path file = dir == null ? null : dir.resolve(FILE_NAME);
    if (file == null || !Files.isRegularFile(file)) {
      return NONE;
    }
    try {
      return parse(Files.readString(file));
    } catch (IOException e) {
      throw new CheckpointException("checkpoint " + dir + ": cannot read " + FILE_NAME + ": " + e.getMessage(), e);
    } catch (CheckpointException e) {
      throw new CheckpointException("checkpoint " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Parses the text of a {@code tokenizer_config.json}. */
  public static TokenizerSettings parse(String json) {
    JsonNode n;
    try {
      n = new ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw new CheckpointException(FILE_NAME + " is not valid JSON: " + e.getMessage(), e);
    }
    JsonNode addBos = n.path("add_bos_token");
    return new TokenizerSettings(chatTemplate(n.path("chat_template")),
        addBos.isBoolean() ? Optional.of(addBos.asBoolean()) : Optional.empty(),
        token(n.path("bos_token")), token(n.path("eos_token")), token(n.path("unk_token")), token(n.path("pad_token")));
  }

  private static Optional<String> chatTemplate(JsonNode t) {
    if (t.isTextual()) {
      return Optional.of(t.asText());
    }
    if (t.isArray()) {
      for (JsonNode named : t) {
        if (named.path("name").asText().equals("default")) {
          return Optional.of(named.path("template").asText());
        }
      }
      throw new CheckpointException(FILE_NAME + ": chat_template is a list without a \"default\" entry; add one");
    }
    return Optional.empty();
  }

  /** A special token given as a string or as a serialised AddedToken ({@code {"content": ...}}). */
  private static Optional<String> token(JsonNode t) {
    if (t.isTextual()) {
      return Optional.of(t.asText());
    }
    if (t.isObject() && t.path("content").isTextual()) {
      return Optional.of(t.path("content").asText());
    }
    return Optional.empty();
  }
}
