package io.marginal.inference.generation;

import io.marginal.config.Settings;
import java.util.Map;

/**
 * PyTorch intra-op threads per model worker. Default 1: on the demo model a decode step is
 * dominated by PyTorch's fixed per-operation cost (DESIGN.md §6), and one intra-op thread per
 * worker measured faster than PyTorch's default of 2 on the 2-core machines. Override with
 * {@code MARGINAL_INTRA_OP_THREADS} or {@code -Dai.djl.pytorch.num_threads} (which wins). Must be
 * applied before the PyTorch engine loads.
 */
public final class IntraOpThreads {

  public static final String ENV = "MARGINAL_INTRA_OP_THREADS";
  public static final String PROPERTY = "ai.djl.pytorch.num_threads";
  public static final int DEFAULT = 1;

  private IntraOpThreads() {
  }

  /** The thread count to use: the system property if set, else the environment, else {@link #DEFAULT}. */
  public static int choose(String property, Map<String, String> env) {
    int n = property != null && !property.isBlank()
        ? Settings.of(Map.of(PROPERTY, property)).getInt(PROPERTY, DEFAULT)
        : Settings.of(env).getInt(ENV, DEFAULT);
    if (n < 1) {
      throw new IllegalArgumentException((property != null && !property.isBlank() ? PROPERTY : ENV)
          + " must be a whole number of threads >= 1, got " + n);
    }
    return n;
  }

  /** Sets {@code ai.djl.pytorch.num_threads} for this JVM (before the engine loads) and returns it. */
  public static int apply() {
    int n = choose(System.getProperty(PROPERTY), System.getenv());
    System.setProperty(PROPERTY, String.valueOf(n));
    return n;
  }
}
