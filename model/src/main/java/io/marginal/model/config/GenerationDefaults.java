package io.marginal.model.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marginal.model.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A checkpoint's {@code generation_config.json}: the end-of-sequence ids generation stops at
 * (Llama 3 lists several) and the sampling settings its authors recommend. Absent file, absent
 * fields: empty. Services take {@link #temperature()}/{@link #topP()} as defaults for requests that
 * name none.
 *
 * @param eosTokenIds {@code eos_token_id} (number or list)
 * @param doSample {@code do_sample}
 * @param temperature {@code temperature}
 * @param topP {@code top_p}
 * @param topK {@code top_k}
 */
public record GenerationDefaults(List<Integer> eosTokenIds, Optional<Boolean> doSample, Optional<Double> temperature,
    Optional<Double> topP, Optional<Integer> topK) {
  public static final String FILE_NAME = "generation_config.json";
  public static final GenerationDefaults NONE = new GenerationDefaults(List.of(), Optional.empty(), Optional.empty(),
      Optional.empty(), Optional.empty());

  public GenerationDefaults {
    eosTokenIds = List.copyOf(eosTokenIds);
  }

  /** Reads {@code dir/generation_config.json}, or {@link #NONE} when there is none. */
  public static GenerationDefaults read(Path dir) {
    Path file = dir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      return NONE;
    }
    try {
      return parse(Files.readString(file));
    } catch (IOException e) {
      throw new CheckpointException("checkpoint " + dir + ": cannot read " + FILE_NAME + ": " + e.getMessage(), e);
    }
  }

  public static GenerationDefaults parse(String json) {
    JsonNode n;
    try {
      n = new ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw new CheckpointException(FILE_NAME + " is not valid JSON: " + e.getMessage(), e);
    }
    List<Integer> eos = ModelConfig.tokenIds(n.path("eos_token_id"));
    return new GenerationDefaults(eos,
        n.path("do_sample").isBoolean() ? Optional.of(n.path("do_sample").asBoolean()) : Optional.empty(),
        n.path("temperature").isNumber() ? Optional.of(n.path("temperature").asDouble()) : Optional.empty(),
        n.path("top_p").isNumber() ? Optional.of(n.path("top_p").asDouble()) : Optional.empty(),
        n.path("top_k").isNumber() ? Optional.of(n.path("top_k").asInt()) : Optional.empty());
  }
}
