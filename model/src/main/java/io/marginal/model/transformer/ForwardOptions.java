package io.marginal.model.transformer;

/**
 * How to run a forward pass.
 *
 * @param adapters updates added to projection outputs ({@link ProjectionAdapter#NONE} for the base model)
 * @param training enables adapter dropout; also what a caller inside a GradientCollector passes
 * @param hook sees every named activation ({@link ModuleHook#NONE} to skip)
 */
public record ForwardOptions(ProjectionAdapter adapters, boolean training, ModuleHook hook) {
  public static final ForwardOptions INFERENCE = new ForwardOptions(ProjectionAdapter.NONE, false, ModuleHook.NONE);

  public ForwardOptions {
    adapters = adapters == null ? ProjectionAdapter.NONE : adapters;
    hook = hook == null ? ModuleHook.NONE : hook;
  }

  public static ForwardOptions inference(ProjectionAdapter adapters) {
    return new ForwardOptions(adapters, false, ModuleHook.NONE);
  }

  public ForwardOptions withHook(ModuleHook newHook) {
    return new ForwardOptions(adapters, training, newHook);
  }
}
