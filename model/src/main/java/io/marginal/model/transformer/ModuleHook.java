package io.marginal.model.transformer;

import ai.djl.ndarray.NDArray;

/**
 * Sees every named activation of a forward pass. Returning the array unchanged records; returning
 * another array (e.g. {@code output.add(zeroLeafRequiringGradient)}) lets a caller take gradients
 * with respect to a module output. Implementations must not close {@code output}.
 */
@FunctionalInterface
public interface ModuleHook {
  ModuleHook NONE = (layer, point, output) -> output;

  NDArray onOutput(int layer, HookPoint point, NDArray output);
}
