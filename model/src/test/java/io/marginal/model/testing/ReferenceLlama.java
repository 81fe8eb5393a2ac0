package io.marginal.model.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marginal.model.config.ModelConfig;
import io.marginal.model.weights.LayerWeights;
import io.marginal.model.weights.ModelWeights;
import io.marginal.model.weights.SafetensorsFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * An independent Llama-family forward pass in plain Java loops (double accumulation), written from
 * the equations and from transformers' modeling code, for checking the NDArray implementation. Slow;
 * for tiny models only.
 *
 * <p>{@link #fromCheckpoint} reads {@code config.json} with its own JSON code and the tensors by their
 * Hugging Face names, applying transformers' rules itself (Llama's {@code attention_bias} on
 * q/k/v/o, Qwen2's q/k/v bias, {@code tie_word_embeddings} tying the head to the embeddings even when
 * the file has an {@code lm_head}, rope settings at the top level or under {@code rope_parameters},
 * llama3/linear rope scaling, the {@code hidden_act} functions), so a loader that drops or misreads
 * any of these disagrees with it.
 */
public final class ReferenceLlama {
  private final Spec c;
  private final float[][] embed;
  private final float[][] head;
  private final float[] norm;
  private final Layer[] layers;

  /** What the equations need: sizes, rotary inverse frequencies and the MLP activation's name. */
  record Spec(int hiddenSize, int numAttentionHeads, int numKeyValueHeads, int headDim, int intermediateSize,
      int vocabSize, double rmsNormEps, double[] invFreq, String hiddenAct) {
    int queryDim() {
      return numAttentionHeads * headDim;
    }

    int keyValueDim() {
      return numKeyValueHeads * headDim;
    }
  }

  record Layer(float[] attnNorm, float[][] wq, float[][] wk, float[][] wv, float[][] wo, float[] bq, float[] bk, float[] bv,
      float[] bo, float[] ffnNorm, float[][] gate, float[][] up, float[][] down) {}

  private ReferenceLlama(Spec c, float[][] embed, float[][] head, float[] norm, Layer[] layers) {
    this.c = c;
    this.embed = embed;
    this.head = head;
    this.norm = norm;
    this.layers = layers;
  }

  /** From weights already loaded (checks the forward pass only; plain rope with the config's theta). */
  public ReferenceLlama(ModelWeights w) {
    this(spec(w.config()), matrix(w.embedTokens().toFloatArray(), w.config().vocabSize(), w.config().hiddenSize()),
        matrix(w.lmHead().toFloatArray(), w.config().vocabSize(), w.config().hiddenSize()), w.norm().toFloatArray(),
        layers(w));
  }

  private static Spec spec(ModelConfig m) {
    return new Spec(m.hiddenSize(), m.numAttentionHeads(), m.numKeyValueHeads(), m.headDim(), m.intermediateSize(),
        m.vocabSize(), m.rmsNormEps(), plainInvFreq(m.ropeTheta(), m.headDim()), m.hiddenAct());
  }

  private static Layer[] layers(ModelWeights w) {
    Spec c = spec(w.config());
    Layer[] layers = new Layer[w.config().numHiddenLayers()];
    for (int l = 0; l < layers.length; l++) {
      LayerWeights x = w.layer(l);
      layers[l] = new Layer(x.attentionNorm().toFloatArray(),
          matrix(x.wq().toFloatArray(), c.queryDim(), c.hiddenSize()),
          matrix(x.wk().toFloatArray(), c.keyValueDim(), c.hiddenSize()),
          matrix(x.wv().toFloatArray(), c.keyValueDim(), c.hiddenSize()),
          matrix(x.wo().toFloatArray(), c.hiddenSize(), c.queryDim()),
          floats(x.bq()), floats(x.bk()), floats(x.bv()), floats(x.bo()), x.ffnNorm().toFloatArray(),
          matrix(x.wGate().toFloatArray(), c.intermediateSize(), c.hiddenSize()),
          matrix(x.wUp().toFloatArray(), c.intermediateSize(), c.hiddenSize()),
          matrix(x.wDown().toFloatArray(), c.hiddenSize(), c.intermediateSize()));
    }
    return layers;
  }

  private static float[] floats(ai.djl.ndarray.NDArray a) {
    return a == null ? null : a.toFloatArray();
  }

  /** Reads a Hugging Face checkpoint directory (single {@code model.safetensors}) the way transformers would. */
  public static ReferenceLlama fromCheckpoint(Path dir) {
    try {
      return fromCheckpoint(dir, new ObjectMapper().readTree(dir.resolve("config.json").toFile()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The tensors of {@code dir} read under config {@code n} (instead of the directory's own config.json). */
  public static ReferenceLlama fromCheckpoint(Path dir, JsonNode n) {
    {
      SafetensorsFile file = SafetensorsFile.open(dir.resolve("model.safetensors"));
      String arch = n.path("architectures").path(0).asText();
      int hidden = n.get("hidden_size").asInt();
      int heads = n.get("num_attention_heads").asInt();
      int kvHeads = n.path("num_key_value_heads").asInt(heads);
      int headDim = n.hasNonNull("head_dim") ? n.get("head_dim").asInt() : hidden / heads;
      int ffn = n.get("intermediate_size").asInt();
      int vocab = n.get("vocab_size").asInt();
      JsonNode rope = n.path("rope_parameters");
      double theta = n.has("rope_theta") ? n.get("rope_theta").asDouble() : rope.path("rope_theta").asDouble(10000.0);
      JsonNode scaling = n.path("rope_scaling").isObject() ? n.path("rope_scaling") : rope;
      Spec c = new Spec(hidden, heads, kvHeads, headDim, ffn, vocab, n.path("rms_norm_eps").asDouble(1e-6),
          invFreq(theta, headDim, scaling), n.path("hidden_act").asText("silu"));
      boolean qkvBias = arch.equals("Qwen2ForCausalLM") || arch.equals("LlamaForCausalLM") && n.path("attention_bias").asBoolean(false);
      boolean oBias = arch.equals("LlamaForCausalLM") && n.path("attention_bias").asBoolean(false);
      float[][] embed = matrix(file.readFloats("model.embed_tokens.weight"), vocab, hidden);
      float[][] head = n.path("tie_word_embeddings").asBoolean(false) ? embed
          : matrix(file.readFloats("lm_head.weight"), vocab, hidden);
      Layer[] layers = new Layer[n.get("num_hidden_layers").asInt()];
      for (int l = 0; l < layers.length; l++) {
        String p = "model.layers." + l + ".";
        layers[l] = new Layer(file.readFloats(p + "input_layernorm.weight"),
            matrix(file.readFloats(p + "self_attn.q_proj.weight"), c.queryDim(), hidden),
            matrix(file.readFloats(p + "self_attn.k_proj.weight"), c.keyValueDim(), hidden),
            matrix(file.readFloats(p + "self_attn.v_proj.weight"), c.keyValueDim(), hidden),
            matrix(file.readFloats(p + "self_attn.o_proj.weight"), hidden, c.queryDim()),
            qkvBias ? file.readFloats(p + "self_attn.q_proj.bias") : null,
            qkvBias ? file.readFloats(p + "self_attn.k_proj.bias") : null,
            qkvBias ? file.readFloats(p + "self_attn.v_proj.bias") : null,
            oBias ? file.readFloats(p + "self_attn.o_proj.bias") : null,
            file.readFloats(p + "post_attention_layernorm.weight"),
            matrix(file.readFloats(p + "mlp.gate_proj.weight"), ffn, hidden),
            matrix(file.readFloats(p + "mlp.up_proj.weight"), ffn, hidden),
            matrix(file.readFloats(p + "mlp.down_proj.weight"), hidden, ffn));
      }
      return new ReferenceLlama(c, embed, head, file.readFloats("model.norm.weight"), layers);
    }
  }

  private static double[] plainInvFreq(double theta, int d) {
    double[] inv = new double[d / 2];
    for (int j = 0; j < d / 2; j++) {
      inv[j] = Math.pow(theta, -2.0 * j / d);
    }
    return inv;
  }

  /** transformers' _compute_default / _linear / _llama3_parameters. */
  private static double[] invFreq(double theta, int d, JsonNode scaling) {
    double[] inv = plainInvFreq(theta, d);
    String type = scaling.path("rope_type").asText(scaling.path("type").asText("default"));
    double factor = scaling.path("factor").asDouble(1.0);
    if (type.equals("linear")) {
      for (int j = 0; j < inv.length; j++) {
        inv[j] /= factor;
      }
    } else if (type.equals("llama3")) {
      double low = scaling.get("low_freq_factor").asDouble();
      double high = scaling.get("high_freq_factor").asDouble();
      double original = scaling.get("original_max_position_embeddings").asDouble();
      for (int j = 0; j < inv.length; j++) {
        double wavelen = 2 * Math.PI / inv[j];
        if (wavelen > original / low) {
          inv[j] = inv[j] / factor;
        } else if (wavelen >= original / high) {
          double smooth = (original / wavelen - low) / (high - low);
          inv[j] = (1 - smooth) * inv[j] / factor + smooth * inv[j];
        }
      }
    } else if (!type.equals("default")) {
      throw new IllegalArgumentException("reference: rope type " + type);
    }
    return inv;
  }

  static float[][] matrix(float[] flat, int rows, int cols) {
    float[][] m = new float[rows][cols];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(flat, r * cols, m[r], 0, cols);
    }
    return m;
  }

  /** Logits [T][vocab] of {@code tokens}. */
  public double[][] logits(int[] tokens) {
    double[][] hidden = forward(tokens);
    double[][] out = new double[hidden.length][];
    for (int i = 0; i < hidden.length; i++) {
      out[i] = logits(hidden[i]);
    }
    return out;
  }

  /** Final-norm hidden states [T][hidden]. */
  public double[][] forward(int[] tokens) {
    int t = tokens.length;
    double[][] x = new double[t][];
    for (int i = 0; i < t; i++) {
      x[i] = toDouble(embed[tokens[i]]);
    }
    for (Layer l : layers) {
      double[][] h = new double[t][];
      for (int i = 0; i < t; i++) {
        h[i] = rmsNorm(x[i], l.attnNorm());
      }
      double[][] attn = attention(l, h);
      for (int i = 0; i < t; i++) {
        double[] o = matVec(l.wo(), attn[i], l.bo());
        for (int j = 0; j < o.length; j++) {
          x[i][j] += o[j];
        }
      }
      for (int i = 0; i < t; i++) {
        double[] hn = rmsNorm(x[i], l.ffnNorm());
        double[] g = matVec(l.gate(), hn, null);
        double[] u = matVec(l.up(), hn, null);
        double[] a = new double[g.length];
        for (int j = 0; j < g.length; j++) {
          a[j] = activation(g[j]) * u[j];
        }
        double[] d = matVec(l.down(), a, null);
        for (int j = 0; j < d.length; j++) {
          x[i][j] += d[j];
        }
      }
    }
    double[][] out = new double[t][];
    for (int i = 0; i < t; i++) {
      out[i] = rmsNorm(x[i], norm);
    }
    return out;
  }

  public double[] logits(double[] hidden) {
    return matVec(head, hidden, null);
  }

  /** One layer's attention block for hidden inputs h (already normed): returns o_proj input [T][H*d]. */
  double[][] attention(Layer l, double[][] h) {
    int t = h.length;
    int d = c.headDim();
    int heads = c.numAttentionHeads();
    int group = heads / c.numKeyValueHeads();
    double[][] q = new double[t][];
    double[][] k = new double[t][];
    double[][] v = new double[t][];
    for (int i = 0; i < t; i++) {
      q[i] = rope(matVec(l.wq(), h[i], l.bq()), i, heads);
      k[i] = rope(matVec(l.wk(), h[i], l.bk()), i, c.numKeyValueHeads());
      v[i] = matVec(l.wv(), h[i], l.bv());
    }
    double[][] out = new double[t][heads * d];
    for (int head = 0; head < heads; head++) {
      int kvHead = head / group;
      for (int i = 0; i < t; i++) {
        double[] scores = new double[i + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j <= i; j++) {
          double s = 0;
          for (int e = 0; e < d; e++) {
            s += q[i][head * d + e] * k[j][kvHead * d + e];
          }
          scores[j] = s / Math.sqrt(d);
          max = Math.max(max, scores[j]);
        }
        double sum = 0;
        for (int j = 0; j <= i; j++) {
          scores[j] = Math.exp(scores[j] - max);
          sum += scores[j];
        }
        for (int j = 0; j <= i; j++) {
          for (int e = 0; e < d; e++) {
            out[i][head * d + e] += scores[j] / sum * v[j][kvHead * d + e];
          }
        }
      }
    }
    return out;
  }

  /** transformers' ACT2FN, in double precision. */
  double activation(double x) {
    return switch (c.hiddenAct()) {
      case "silu", "swish" -> x / (1 + Math.exp(-x));
      case "gelu" -> 0.5 * x * (1 + erf(x / Math.sqrt(2)));
      case "gelu_pytorch_tanh", "gelu_new" -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
      case "relu" -> Math.max(0, x);
      default -> throw new IllegalArgumentException("reference: hidden_act " + c.hiddenAct());
    };
  }

  /** erf by its Maclaurin series (ample precision for |x| < 4; beyond, erf is ±1 within 2e-8). */
  static double erf(double x) {
    if (Math.abs(x) >= 4) {
      return Math.signum(x);
    }
    double sum = 0;
    double term = x; // (-1)^n x^(2n+1) / n!
    for (int n = 0; n < 80; n++) {
      sum += term / (2 * n + 1);
      term *= -x * x / (n + 1);
    }
    return 2 / Math.sqrt(Math.PI) * sum;
  }

  /** Rotates each head's pairs (j, j + d/2) by pos * invFreq[j]. */
  double[] rope(double[] x, int pos, int heads) {
    int d = c.headDim();
    double[] out = x.clone();
    for (int h = 0; h < heads; h++) {
      for (int j = 0; j < d / 2; j++) {
        double angle = pos * c.invFreq()[j];
        double a = x[h * d + j];
        double b = x[h * d + j + d / 2];
        out[h * d + j] = a * Math.cos(angle) - b * Math.sin(angle);
        out[h * d + j + d / 2] = b * Math.cos(angle) + a * Math.sin(angle);
      }
    }
    return out;
  }

  double[] rmsNorm(double[] x, float[] w) {
    double ss = 0;
    for (double v : x) {
      ss += v * v;
    }
    double inv = 1 / Math.sqrt(ss / x.length + c.rmsNormEps());
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i] * inv * w[i];
    }
    return out;
  }

  static double[] matVec(float[][] w, double[] x, float[] bias) {
    double[] out = new double[w.length];
    for (int r = 0; r < w.length; r++) {
      double s = bias == null ? 0 : bias[r];
      for (int k = 0; k < x.length; k++) {
        s += w[r][k] * x[k];
      }
      out[r] = s;
    }
    return out;
  }

  static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }
}
