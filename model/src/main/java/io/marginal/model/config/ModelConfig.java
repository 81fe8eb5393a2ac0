package io.marginal.model.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.marginal.model.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The dimensions of a Llama-family decoder, as read from a Hugging Face {@code config.json}.
 *
 * <p>Covers Llama (1/2/3, incl. llama3 rope scaling), Mistral (without sliding-window attention,
 * which only matters past its window) and Qwen2/2.5 (q/k/v bias). SmolLM checkpoints are Llama.
 *
 * @param architecture the {@code architectures[0]} entry, e.g. {@code LlamaForCausalLM}
 * @param modelType the {@code model_type}, e.g. {@code llama}, {@code qwen2}
 * @param attentionBias whether q/k/v projections carry a bias (always for Qwen2)
 * @param ropeScaling llama3-style frequency scaling, or {@code null}
 * @param bosTokenId {@code bos_token_id} or -1
 * @param eosTokenIds {@code eos_token_id} (number or list), may be empty
 */
public record ModelConfig(
    String architecture,
    String modelType,
    int hiddenSize,
    int intermediateSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int numKeyValueHeads,
    int headDim,
    int vocabSize,
    double rmsNormEps,
    double ropeTheta,
    RopeScaling ropeScaling,
    int maxPositionEmbeddings,
    boolean tieWordEmbeddings,
    boolean attentionBias,
    int bosTokenId,
    List<Integer> eosTokenIds) {

  /** Architectures whose weights and forward pass this module implements. */
  public static final Set<String> SUPPORTED_ARCHITECTURES =
      Set.of("LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM");

  private static final ObjectMapper JSON = new ObjectMapper();

  public ModelConfig {
    if (hiddenSize <= 0 || numHiddenLayers <= 0 || numAttentionHeads <= 0 || vocabSize <= 0) {
      throw new CheckpointException("config.json: hidden_size, num_hidden_layers, num_attention_heads"
          + " and vocab_size must be positive");
    }
    if (numAttentionHeads % numKeyValueHeads != 0) {
      throw new CheckpointException("config.json: num_attention_heads (" + numAttentionHeads
          + ") must be a multiple of num_key_value_heads (" + numKeyValueHeads + ")");
    }
    if (headDim % 2 != 0) {
      throw new CheckpointException("config.json: head dimension " + headDim + " must be even for rotary embeddings");
    }
    eosTokenIds = List.copyOf(eosTokenIds);
  }

  /** llama3-style rotary frequency scaling ({@code rope_scaling.rope_type == "llama3"}). */
  public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor,
      int originalMaxPositionEmbeddings) {}

  /** Reads {@code dir/config.json}. */
  public static ModelConfig read(Path checkpointDir) {
    Path file = checkpointDir.resolve("config.json");
    if (!Files.isRegularFile(file)) {
      throw new CheckpointException("checkpoint " + checkpointDir + ": config.json not found; expected a"
          + " Hugging Face model directory with config.json, *.safetensors and tokenizer.json");
    }
    try {
      return parse(Files.readString(file));
    } catch (IOException e) {
      throw new CheckpointException("checkpoint " + checkpointDir + ": cannot read config.json: " + e.getMessage(), e);
    }
  }

  /** Parses the text of a {@code config.json}. */
  public static ModelConfig parse(String json) {
    JsonNode n;
    try {
      n = JSON.readTree(json);
    } catch (IOException e) {
      throw new CheckpointException("config.json is not valid JSON: " + e.getMessage(), e);
    }
    String architecture = n.path("architectures").path(0).asText("");
    String modelType = n.path("model_type").asText("");
    if (!SUPPORTED_ARCHITECTURES.contains(architecture)) {
      throw new CheckpointException("config.json: unsupported architecture '" + architecture
          + "' (model_type '" + modelType + "'); supported: " + SUPPORTED_ARCHITECTURES
          + " (Llama, Mistral, Qwen2, SmolLM)");
    }
    int hidden = required(n, "hidden_size");
    int heads = required(n, "num_attention_heads");
    int kvHeads = n.path("num_key_value_heads").asInt(heads);
    int headDim = n.hasNonNull("head_dim") ? n.get("head_dim").asInt() : hidden / heads;
    boolean bias = modelType.equals("qwen2") || architecture.equals("Qwen2ForCausalLM")
        || n.path("attention_bias").asBoolean(false);
    RopeScaling scaling = null;
    JsonNode rs = n.path("rope_scaling");
    if (rs.isObject()) {
      String type = rs.path("rope_type").asText(rs.path("type").asText(""));
      if (!type.equals("llama3") && !type.equals("default")) {
        throw new CheckpointException("config.json: unsupported rope_scaling type '" + type
            + "'; supported: llama3, default");
      }
      if (type.equals("llama3")) {
        scaling = new RopeScaling(rs.path("factor").asDouble(8.0), rs.path("low_freq_factor").asDouble(1.0),
            rs.path("high_freq_factor").asDouble(4.0), rs.path("original_max_position_embeddings").asInt(8192));
      }
    }
    if (n.path("mlp_bias").asBoolean(false)) {
      throw new CheckpointException("config.json: mlp_bias=true is not supported");
    }
    List<Integer> eos = new ArrayList<>();
    JsonNode e = n.path("eos_token_id");
    if (e.isArray()) {
      e.forEach(x -> eos.add(x.asInt()));
    } else if (e.isNumber()) {
      eos.add(e.asInt());
    }
    return new ModelConfig(architecture, modelType, hidden, required(n, "intermediate_size"),
        required(n, "num_hidden_layers"), heads, kvHeads, headDim, required(n, "vocab_size"),
        n.path("rms_norm_eps").asDouble(1e-6), n.path("rope_theta").asDouble(10000.0), scaling,
        n.path("max_position_embeddings").asInt(2048), n.path("tie_word_embeddings").asBoolean(false),
        bias, n.path("bos_token_id").asInt(-1), eos);
  }

  private static int required(JsonNode n, String field) {
    if (!n.hasNonNull(field)) {
      throw new CheckpointException("config.json: required field '" + field + "' is missing");
    }
    return n.get(field).asInt();
  }

  /** Writes this configuration in Hugging Face form (what {@link #parse} reads back). */
  public String toJson() {
    ObjectNode n = JSON.createObjectNode();
    n.putArray("architectures").add(architecture);
    n.put("model_type", modelType);
    n.put("hidden_size", hiddenSize);
    n.put("intermediate_size", intermediateSize);
    n.put("num_hidden_layers", numHiddenLayers);
    n.put("num_attention_heads", numAttentionHeads);
    n.put("num_key_value_heads", numKeyValueHeads);
    n.put("head_dim", headDim);
    n.put("vocab_size", vocabSize);
    n.put("rms_norm_eps", rmsNormEps);
    n.put("rope_theta", ropeTheta);
    n.put("max_position_embeddings", maxPositionEmbeddings);
    n.put("tie_word_embeddings", tieWordEmbeddings);
    n.put("attention_bias", attentionBias);
    n.put("hidden_act", "silu");
    n.put("torch_dtype", "float32");
    if (bosTokenId >= 0) {
      n.put("bos_token_id", bosTokenId);
    }
    if (eosTokenIds.size() == 1) {
      n.put("eos_token_id", eosTokenIds.get(0));
    } else if (!eosTokenIds.isEmpty()) {
      eosTokenIds.forEach(n.putArray("eos_token_id")::add);
    }
    if (ropeScaling != null) {
      ObjectNode rs = n.putObject("rope_scaling");
      rs.put("rope_type", "llama3");
      rs.put("factor", ropeScaling.factor());
      rs.put("low_freq_factor", ropeScaling.lowFreqFactor());
      rs.put("high_freq_factor", ropeScaling.highFreqFactor());
      rs.put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
    }
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n);
    } catch (IOException ex) {
      throw new IllegalStateException(ex);
    }
  }

  /** Width of the query projection output, {@code num_attention_heads * head_dim}. */
  public int queryDim() {
    return numAttentionHeads * headDim;
  }

  /** Width of the key and value projection outputs, {@code num_key_value_heads * head_dim}. */
  public int keyValueDim() {
    return numKeyValueHeads * headDim;
  }

  /** A short human description for logs. */
  public String describe() {
    return String.format("%s: %d layers, hidden %d, heads %d/%d kv, head_dim %d, ffn %d, vocab %d, rope_theta %.0f",
        architecture, numHiddenLayers, hiddenSize, numAttentionHeads, numKeyValueHeads, headDim,
        intermediateSize, vocabSize, ropeTheta);
  }
}
