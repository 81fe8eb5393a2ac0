package io.marginal.model.testing;

import io.marginal.model.config.ModelConfig;
import io.marginal.model.weights.LayerWeights;
import io.marginal.model.weights.ModelWeights;

/**
 * An independent Llama forward pass in plain Java loops (double accumulation), written from the
 * equations, for checking the NDArray implementation. Slow; for tiny models only.
 */
public final class ReferenceLlama {
  private final ModelConfig c;
  private final float[][] embed;
  private final float[][] head;
  private final float[] norm;
  private final Layer[] layers;

  record Layer(float[] attnNorm, float[][] wq, float[][] wk, float[][] wv, float[][] wo, float[] bq, float[] bk, float[] bv,
      float[] ffnNorm, float[][] gate, float[][] up, float[][] down) {}

  public ReferenceLlama(ModelWeights w) {
    this.c = w.config();
    this.embed = matrix(w.embedTokens().toFloatArray(), c.vocabSize(), c.hiddenSize());
    this.head = matrix(w.lmHead().toFloatArray(), c.vocabSize(), c.hiddenSize());
    this.norm = w.norm().toFloatArray();
    this.layers = new Layer[c.numHiddenLayers()];
    for (int l = 0; l < layers.length; l++) {
      LayerWeights x = w.layer(l);
      layers[l] = new Layer(x.attentionNorm().toFloatArray(),
          matrix(x.wq().toFloatArray(), c.queryDim(), c.hiddenSize()),
          matrix(x.wk().toFloatArray(), c.keyValueDim(), c.hiddenSize()),
          matrix(x.wv().toFloatArray(), c.keyValueDim(), c.hiddenSize()),
          matrix(x.wo().toFloatArray(), c.hiddenSize(), c.queryDim()),
          x.bq() == null ? null : x.bq().toFloatArray(), x.bk() == null ? null : x.bk().toFloatArray(),
          x.bv() == null ? null : x.bv().toFloatArray(), x.ffnNorm().toFloatArray(),
          matrix(x.wGate().toFloatArray(), c.intermediateSize(), c.hiddenSize()),
          matrix(x.wUp().toFloatArray(), c.intermediateSize(), c.hiddenSize()),
          matrix(x.wDown().toFloatArray(), c.hiddenSize(), c.intermediateSize()));
    }
  }

  static float[][] matrix(float[] flat, int rows, int cols) {
    float[][] m = new float[rows][cols];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(flat, r * cols, m[r], 0, cols);
    }
    return m;
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
        double[] o = matVec(l.wo(), attn[i], null);
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
          a[j] = g[j] / (1 + Math.exp(-g[j])) * u[j];
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

  /** Rotates each head's pairs (j, j + d/2) by pos * theta^(-2j/d). */
  double[] rope(double[] x, int pos, int heads) {
    int d = c.headDim();
    double[] out = x.clone();
    for (int h = 0; h < heads; h++) {
      for (int j = 0; j < d / 2; j++) {
        double angle = pos * Math.pow(c.ropeTheta(), -2.0 * j / d);
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
