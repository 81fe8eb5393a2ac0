package io.marginal.model;

/**
 * Hidden states of one text.
 *
 * @param tokens the token ids
 * @param layerOutputs residual stream after each layer, {@code [layer][token][hidden]}
 * @param finalHidden after the final norm, {@code [token][hidden]}
 */
public record HiddenStates(int[] tokens, float[][][] layerOutputs, float[][] finalHidden) {}
