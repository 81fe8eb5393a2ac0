package io.marginal.model.probe;

/**
 * Per-neuron statistics of one module output over the tokens seen.
 *
 * @param meanAbsActivation mean |a| per neuron
 * @param meanSquaredActivation mean a² per neuron
 * @param saliency sum over tokens of |a · ∂L/∂a| per neuron (zero when recorded without gradients)
 * @param fisher sum over tokens of (∂L/∂a)² per neuron, the diagonal empirical Fisher (zero without gradients)
 * @param tokens number of token positions accumulated
 */
public record NeuronScores(float[] meanAbsActivation, float[] meanSquaredActivation, float[] saliency, float[] fisher,
    long tokens) {}
