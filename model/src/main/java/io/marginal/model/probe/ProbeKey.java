package io.marginal.model.probe;

import io.marginal.model.transformer.HookPoint;

/** A layer and a hook point, e.g. (3, DOWN). */
public record ProbeKey(int layer, HookPoint point) {}
