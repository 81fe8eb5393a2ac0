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
 * <p>Covers Llama (1/2/3, incl. llama3 and linear rope scaling, {@code attention_bias} on q/k/v/o),
 * Mistral (without sliding-window attention, which only matters past its window) and Qwen2/2.5
 * (q/k/v bias). SmolLM checkpoints are Llama. Rope settings are read from the top level
 * ({@code rope_theta}, {@code rope_scaling}) or from {@code rope_parameters} (newer transformers);
 * fields that would change the output but are not implemented are refused by name.
 *
 * @param architecture the {@code architectures[0]} entry, e.g. {@code LlamaForCausalLM}
 * @param modelType the {@code model_type}, e.g. {@code llama}, {@code qwen2}
 * @param attentionBias whether q/k/v projections carry a bias (always for Qwen2; Llama's
 *     {@code attention_bias}, which also puts one on o_proj: see {@link #outputProjectionBias()})
 * @param ropeScaling llama3 or linear frequency scaling, or {@code null}
 * @param bosTokenId {@code bos_token_id} or -1
 * @param eosTokenIds {@code eos_token_id} (number or list), may be empty
 * @param hiddenAct the MLP activation's {@code hidden_act} name (see {@link HiddenActivation})
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
    List<Integer> eosTokenIds,
    String hiddenAct) {

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
    hiddenAct = hiddenAct == null ? "silu" : hiddenAct;
    HiddenActivation.fromHfName(hiddenAct);
  }

  /** A SiLU model (the dimensions alone, as before {@code hidden_act} was read). */
  public ModelConfig(String architecture, String modelType, int hiddenSize, int intermediateSize, int numHiddenLayers,
      int numAttentionHeads, int numKeyValueHeads, int headDim, int vocabSize, double rmsNormEps, double ropeTheta,
      RopeScaling ropeScaling, int maxPositionEmbeddings, boolean tieWordEmbeddings, boolean attentionBias,
      int bosTokenId, List<Integer> eosTokenIds) {
    this(architecture, modelType, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads,
        headDim, vocabSize, rmsNormEps, ropeTheta, ropeScaling, maxPositionEmbeddings, tieWordEmbeddings, attentionBias,
        bosTokenId, eosTokenIds, "silu");
  }

  /**
   * Rotary frequency scaling, as transformers' {@code rope_type}: {@code llama3} (per-frequency
   * smoothing between {@code low_freq_factor} and {@code high_freq_factor}) or {@code linear}
   * (every frequency divided by {@code factor}; the other fields unused).
   */
  public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
      int originalMaxPositionEmbeddings) {
    public static final String LLAMA3 = "llama3";
    public static final String LINEAR = "linear";

    public RopeScaling {
      if (!type.equals(LLAMA3) && !type.equals(LINEAR)) {
        throw new CheckpointException("config.json: unsupported rope type '" + type + "'; supported: default, llama3, linear");
      }
      if (!(factor > 0)) {
        throw new CheckpointException("config.json: rope scaling factor must be positive, got " + factor);
      }
    }

    /** llama3 scaling. */
    public RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings) {
      this(LLAMA3, factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings);
    }

    /** Linear (position interpolation) scaling by {@code factor}. */
    public static RopeScaling linear(double factor) {
      return new RopeScaling(LINEAR, factor, 1.0, 1.0, 0);
    }
  }

  /** Whether o_proj carries a bias: Llama's {@code attention_bias} covers q, k, v and o; Qwen2's bias is q/k/v only. */
  public boolean outputProjectionBias() {
    return attentionBias && architecture.equals("LlamaForCausalLM");
  }

  /** The MLP activation function. */
  public HiddenActivation activation() {
    return HiddenActivation.fromHfName(hiddenAct);
  }

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
    // transformers: Qwen2 always has q/k/v bias and none on o_proj; Llama's attention_bias puts one on
    // q, k, v and o; Mistral's attention has no bias whatever the config says.
    boolean bias = switch (architecture) {
      case "Qwen2ForCausalLM" -> true;
      case "LlamaForCausalLM" -> n.path("attention_bias").asBoolean(false);
      default -> false;
    };
    JsonNode ropeParameters = n.path("rope_parameters");
    double ropeTheta = ropeTheta(n, ropeParameters);
    RopeScaling scaling = ropeScaling(n.path("rope_scaling").isObject() ? n.path("rope_scaling") : ropeParameters,
        n.path("rope_scaling").isObject() ? "rope_scaling" : "rope_parameters");
    double partialRotary = n.path("partial_rotary_factor").asDouble(ropeParameters.path("partial_rotary_factor").asDouble(1.0));
    if (partialRotary != 1.0) {
      throw new CheckpointException("config.json: partial_rotary_factor " + partialRotary + " is not supported (only 1.0)");
    }
    String hiddenAct = n.path("hidden_act").asText("silu");
    HiddenActivation.fromHfName(hiddenAct);
    if (n.path("mlp_bias").asBoolean(false)) {
      throw new CheckpointException("config.json: mlp_bias=true is not supported");
    }
    List<Integer> eos = ModelConfig.tokenIds(n.path("eos_token_id"));
    return new ModelConfig(architecture, modelType, hidden, required(n, "intermediate_size"),
        required(n, "num_hidden_layers"), heads, kvHeads, headDim, required(n, "vocab_size"),
        n.path("rms_norm_eps").asDouble(1e-6), ropeTheta, scaling,
        contextLength(n, architecture), n.path("tie_word_embeddings").asBoolean(false),
        bias, n.path("bos_token_id").asInt(-1), eos, hiddenAct);
  }

  /**
   * {@code max_position_embeddings}, capped at Mistral's {@code sliding_window} (and Qwen2's when
   * {@code use_sliding_window} is on): attention here is always full, which equals sliding-window
   * attention only up to the window, so longer sequences are refused rather than computed differently.
   */
  private static int contextLength(JsonNode n, String architecture) {
    int max = n.path("max_position_embeddings").asInt(2048);
    boolean windowed = architecture.equals("MistralForCausalLM")
        || architecture.equals("Qwen2ForCausalLM") && n.path("use_sliding_window").asBoolean(false);
    JsonNode window = n.path("sliding_window");
    return windowed && window.isNumber() && window.asInt() > 0 ? Math.min(max, window.asInt()) : max;
  }

  /** {@code rope_theta} from the top level or {@code rope_parameters}; both given and different is refused. */
  private static double ropeTheta(JsonNode n, JsonNode ropeParameters) {
    JsonNode top = n.path("rope_theta");
    JsonNode nested = ropeParameters.path("rope_theta");
    if (top.isNumber() && nested.isNumber() && top.asDouble() != nested.asDouble()) {
      throw new CheckpointException("config.json: rope_theta " + top.asDouble() + " and rope_parameters.rope_theta "
          + nested.asDouble() + " disagree; keep one of them");
    }
    return top.isNumber() ? top.asDouble() : nested.isNumber() ? nested.asDouble() : 10000.0;
  }

  /** llama3 or linear scaling from {@code node} (rope_scaling or rope_parameters), null for default rope. */
  private static RopeScaling ropeScaling(JsonNode node, String field) {
    if (!node.isObject()) {
      return null;
    }
    if (!node.has("rope_type") && !node.has("type")) {
      if (node.has("rope_theta") || node.size() == 0) {
        return null;
      }
      throw new CheckpointException("config.json: " + field + " without rope_type (per-layer-type rope parameters?)"
          + " is not supported; supported rope types: default, llama3, linear");
    }
    String type = node.path("rope_type").asText(node.path("type").asText(""));
    return switch (type) {
      case "default" -> null;
      case RopeScaling.LLAMA3 -> new RopeScaling(node.path("factor").asDouble(8.0), node.path("low_freq_factor").asDouble(1.0),
          node.path("high_freq_factor").asDouble(4.0), node.path("original_max_position_embeddings").asInt(8192));
      case RopeScaling.LINEAR -> RopeScaling.linear(node.path("factor").asDouble(1.0));
      default -> throw new CheckpointException("config.json: unsupported " + field + " rope_type '" + type
          + "'; supported: default, llama3, linear (dynamic, yarn and longrope are not implemented)");
    };
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
    n.put("hidden_act", hiddenAct);
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
      rs.put("rope_type", ropeScaling.type());
      rs.put("factor", ropeScaling.factor());
      if (ropeScaling.type().equals(RopeScaling.LLAMA3)) {
        rs.put("low_freq_factor", ropeScaling.lowFreqFactor());
        rs.put("high_freq_factor", ropeScaling.highFreqFactor());
        rs.put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
      }
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
    return String.format("%s: %d layers, hidden %d, heads %d/%d kv, head_dim %d, ffn %d (%s), vocab %d, rope_theta %.0f%s%s",
        architecture, numHiddenLayers, hiddenSize, numAttentionHeads, numKeyValueHeads, headDim,
        intermediateSize, hiddenAct, vocabSize, ropeTheta, ropeScaling == null ? "" : " (" + ropeScaling.type() + " x"
            + ropeScaling.factor() + ")", attentionBias ? (outputProjectionBias() ? ", q/k/v/o bias" : ", q/k/v bias") : "");
  }

  /** A token-id field of an HF config: one id, a list of ids, or absent (empty). */
  static List<Integer> tokenIds(JsonNode field) {
    List<Integer> ids = new ArrayList<>();
    if (field.isArray()) {
      field.forEach(x -> ids.add(x.asInt()));
    } else if (field.isNumber()) {
      ids.add(field.asInt());
    }
    return ids;
  }
}
