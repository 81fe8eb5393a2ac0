package io.marginal.ops.bench.model;

import io.marginal.model.demo.DemoModel;
import java.nio.file.Path;
import picocli.CommandLine.Parameters;

/** The first two positional arguments of the model benchmarks: which checkpoint, and how many tokens each prompt decodes. */
final class CheckpointAndTokens {

  @Parameters(index = "0", arity = "0..1", paramLabel = "CHECKPOINT", defaultValue = "demo",
      description = "A checkpoint directory, or demo for the demo model (built on first use).")
  String checkpoint;

  @Parameters(index = "1", arity = "0..1", paramLabel = "TOKENS", defaultValue = "64", description = "Tokens decoded per prompt.")
  int tokens;

  /** The checkpoint directory (the demo model is built on first use). */
  Path directory() {
    return checkpoint.equals("demo") ? DemoModel.ensureBuilt() : Path.of(checkpoint);
  }
}
