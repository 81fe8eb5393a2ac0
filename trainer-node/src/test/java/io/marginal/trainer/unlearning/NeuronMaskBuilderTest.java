package io.marginal.trainer.unlearning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.marginal.model.lora.LoraTarget;
import io.marginal.model.weights.Projection;
import org.junit.jupiter.api.Test;

class NeuronMaskBuilderTest {

  private static final LoraTarget T = new LoraTarget(0, Projection.DOWN);

  @Test
  void topKKeepsTheNeuronsWithTheHighestForgetToRetainRatio() {
    // saliency and Fisher on the forget loss, and on the retain loss, for 8 neurons
    double[][] forget = {{4, 4, 1, 1, 8, 1, 1, 0.5}, {4, 4, 1, 1, 8, 1, 1, 0.5}};
    double[][] retain = {{0.1, 8, 1, 1, 8, 1, 0.1, 1}, {0.1, 8, 1, 1, 8, 1, 0.1, 1}};
    NeuronMaskBuilder.ModuleMask m = new NeuronMaskBuilder(0.25, 0).mask(T, forget, retain);
    // neuron 0: strong on forget, silent on retain; neuron 4 is strongest on forget but as strong on retain;
    // neuron 6 is weak on forget but silent on retain: ratios 0 > 6 > 4
    assertArrayEquals(new boolean[] {true, false, false, false, false, false, true, false}, m.mask());
    assertEquals(2, m.kept());
    double[] r = m.ratio();
    assertEquals(true, r[0] > r[6] && r[6] > r[4] && r[4] > r[1]);
  }

  @Test
  void thresholdKeepsEveryNeuronAboveItAndAtLeastOne() {
    NeuronMaskBuilder builder = new NeuronMaskBuilder(0.25, 2.0);
    assertArrayEquals(new boolean[] {true, false, true}, builder.select(new double[] {3, 1, 2}));
    assertArrayEquals(new boolean[] {false, true, false}, builder.select(new double[] {0.5, 1.5, 1}));
  }

  @Test
  void saliencyAndFisherWeighTheSameWhateverTheirScale() {
    double[] c = NeuronMaskBuilder.combined(new double[] {1, 3}, new double[] {1000, 3000});
    assertArrayEquals(new double[] {0.5, 1.5}, c, 1e-12);
  }
}
