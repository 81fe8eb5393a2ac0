package io.marginal.model.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.marginal.model.demo.DemoTokenizerWriter;
import io.marginal.model.weights.SafetensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A tiny random checkpoint written the way transformers saves one: a hand-written
 * {@code config.json} and the state-dict tensor names, independent of the project's
 * {@code ModelConfig}/{@code ModelWeights}. Which tensors the file holds is chosen here, not derived
 * from the config, so a test can write a file that disagrees with it. Weights are large enough
 * (std 0.2, embeddings std 1, norms around 1, biases std 0.5) that every feature moves the logits.
 */
public final class HfCheckpoint {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final ObjectNode config;
  private final Set<String> biases = new LinkedHashSet<>();
  private final Map<String, long[]> extra = new LinkedHashMap<>();
  private boolean lmHead = true;
  private boolean bosToken;
  private boolean bosInPostProcessor;
  private boolean postProcessorSequence;
  private String tokenizerConfig;

  private HfCheckpoint(ObjectNode config) {
    this.config = config;
  }

  /** LlamaForCausalLM: hidden 32, 4 heads / 2 kv heads of 8, ffn 48, 2 layers, untied, no bias. */
  public static HfCheckpoint llama() {
    ObjectNode n = JSON.createObjectNode();
    n.putArray("architectures").add("LlamaForCausalLM");
    n.put("model_type", "llama");
    n.put("hidden_size", 32);
    n.put("intermediate_size", 48);
    n.put("num_hidden_layers", 2);
    n.put("num_attention_heads", 4);
    n.put("num_key_value_heads", 2);
    n.put("head_dim", 8);
    n.put("rms_norm_eps", 1e-5);
    n.put("rope_theta", 10000.0);
    n.put("max_position_embeddings", 64);
    n.put("hidden_act", "silu");
    n.put("tie_word_embeddings", false);
    n.put("attention_bias", false);
    n.put("eos_token_id", 2);
    return new HfCheckpoint(n);
  }

  /** Qwen2ForCausalLM of the same size: q/k/v bias tensors in the file. */
  public static HfCheckpoint qwen2() {
    HfCheckpoint c = llama().config(n -> {
      n.putArray("architectures").add("Qwen2ForCausalLM");
      n.put("model_type", "qwen2");
      n.remove("attention_bias");
    });
    return c.biases("q_proj", "k_proj", "v_proj");
  }

  /** Edits config.json. */
  public HfCheckpoint config(Consumer<ObjectNode> edit) {
    edit.accept(config);
    return this;
  }

  /** Projections ({@code q_proj}, ..., {@code o_proj}) whose {@code .bias} the file holds. */
  public HfCheckpoint biases(String... projections) {
    biases.addAll(Set.of(projections));
    return this;
  }

  /** Whether the file holds {@code lm_head.weight} (default yes). */
  public HfCheckpoint lmHead(boolean present) {
    lmHead = present;
    return this;
  }

  /** One more tensor in the file, e.g. a buffer or a stray weight. */
  public HfCheckpoint extraTensor(String name, long... shape) {
    extra.put(name, shape);
    return this;
  }

  /**
   * Adds a special {@code <s>} token (the last id) to the tokenizer; with {@code inPostProcessor}, a
   * Llama-style {@code TemplateProcessing} post-processor puts it before every text.
   */
  public HfCheckpoint bosToken(boolean inPostProcessor) {
    bosToken = true;
    bosInPostProcessor = inPostProcessor;
    return this;
  }

  /** Like {@link #bosToken(boolean) bosToken(true)}, as Llama 3 writes it: ByteLevel then TemplateProcessing in a Sequence. */
  public HfCheckpoint bosTokenInPostProcessorSequence() {
    postProcessorSequence = true;
    return bosToken(true);
  }

  /** Writes this text as tokenizer_config.json. */
  public HfCheckpoint tokenizerConfig(String json) {
    tokenizerConfig = json;
    return this;
  }

  /** A copy of the config.json this writes (vocab_size filled in by {@link #write}). */
  public ObjectNode configJson() {
    return config.deepCopy();
  }

  /** Writes tokenizer.json, config.json and model.safetensors into {@code dir}. */
  public Path write(Path dir, long seed) {
    try {
      Files.createDirectories(dir);
      int vocab = DemoTokenizerWriter.write(dir.resolve("tokenizer.json"), TinyModels.TEXTS);
      if (bosToken) {
        addBos(dir.resolve("tokenizer.json"), vocab, bosInPostProcessor, postProcessorSequence);
        config.put("bos_token_id", vocab);
        vocab++;
      }
      if (tokenizerConfig != null) {
        Files.writeString(dir.resolve("tokenizer_config.json"), tokenizerConfig);
      }
      config.put("vocab_size", vocab);
      Files.writeString(dir.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config));
      int h = config.get("hidden_size").asInt();
      int d = config.get("head_dim").asInt();
      int q = config.get("num_attention_heads").asInt() * d;
      int kv = config.get("num_key_value_heads").asInt() * d;
      int f = config.get("intermediate_size").asInt();
      Random random = new Random(seed);
      Map<String, SafetensorsWriter.Entry> t = new TreeMap<>();
      put(t, random, "model.embed_tokens.weight", 1.0, 0, vocab, h);
      for (int l = 0; l < config.get("num_hidden_layers").asInt(); l++) {
        String p = "model.layers." + l + ".";
        put(t, random, p + "input_layernorm.weight", 0.1, 1, h);
        put(t, random, p + "post_attention_layernorm.weight", 0.1, 1, h);
        Map<String, long[]> projections = new LinkedHashMap<>();
        projections.put("self_attn.q_proj", new long[] {q, h});
        projections.put("self_attn.k_proj", new long[] {kv, h});
        projections.put("self_attn.v_proj", new long[] {kv, h});
        projections.put("self_attn.o_proj", new long[] {h, q});
        projections.put("mlp.gate_proj", new long[] {f, h});
        projections.put("mlp.up_proj", new long[] {f, h});
        projections.put("mlp.down_proj", new long[] {h, f});
        for (var e : projections.entrySet()) {
          put(t, random, p + e.getKey() + ".weight", 0.2, 0, e.getValue());
          if (biases.contains(e.getKey().substring(e.getKey().indexOf('.') + 1))) {
            put(t, random, p + e.getKey() + ".bias", 0.5, 0, e.getValue()[0]);
          }
        }
      }
      put(t, random, "model.norm.weight", 0.1, 1, h);
      if (lmHead) {
        put(t, random, "lm_head.weight", 0.2, 0, vocab, h);
      }
      for (var e : extra.entrySet()) {
        put(t, random, e.getKey(), 1.0, 0, e.getValue());
      }
      Files.write(dir.resolve("model.safetensors"), SafetensorsWriter.encode(t, Map.of("format", "pt")));
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void addBos(Path file, int id, boolean inPostProcessor, boolean sequence) throws IOException {
    ObjectNode root = (ObjectNode) JSON.readTree(file.toFile());
    ObjectNode t = ((com.fasterxml.jackson.databind.node.ArrayNode) root.get("added_tokens")).addObject();
    t.put("id", id).put("content", "<s>").put("single_word", false).put("lstrip", false).put("rstrip", false)
        .put("normalized", false).put("special", true);
    ((ObjectNode) root.path("model").path("vocab")).put("<s>", id);
    if (inPostProcessor) {
      root.set("post_processor", JSON.readTree("""
          {"type": "TemplateProcessing",
           "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
           "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                    {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
           "special_tokens": {"<s>": {"id": "<s>", "ids": [%d], "tokens": ["<s>"]}}}""".formatted(id)));
      if (sequence) {
        ObjectNode seq = JSON.createObjectNode().put("type", "Sequence");
        seq.putArray("processors").add(JSON.readTree(
            "{\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": false, \"use_regex\": true}"))
            .add(root.get("post_processor"));
        root.set("post_processor", seq);
      }
    }
    Files.writeString(file, JSON.writeValueAsString(root));
  }

  private static void put(Map<String, SafetensorsWriter.Entry> t, Random random, String name, double std, double mean,
      long... shape) {
    long size = 1;
    for (long s : shape) {
      size *= s;
    }
    float[] v = new float[Math.toIntExact(size)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (mean + std * random.nextGaussian());
    }
    t.put(name, SafetensorsWriter.Entry.f32(v, shape));
  }
}
