package io.marginal.model.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.marginal.model.LanguageModel;
import io.marginal.model.config.ModelConfig;
import io.marginal.model.testing.TinyModels;
import io.marginal.model.transformer.ProjectionAdapter;
import io.marginal.model.weights.FusedProjections;
import io.marginal.model.weights.LayerWeights;
import io.marginal.model.weights.Projection;
import io.marginal.model.weights.ProjectionGroup;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decode path's stacked projections: a loaded checkpoint's q/k/v and gate/up weights are views
 * of the stacks (same values, no copy), and a group's LoRA update is its members' updates side by
 * side, zeros where a member has none — per request ({@code ActiveAdapters}) and per batch
 * ({@code SlotLora} over the block-diagonal factors of {@code ConcatenatedLora}).
 */
class ProjectionGroupTest {
  @TempDir Path dir;

  @Test
  void loadedWeightsAreRowViewsOfTheStacks() {
    try (LanguageModel model = TinyModels.load(dir, true, 4)) {
      ModelConfig c = model.config();
      for (int l = 0; l < c.numHiddenLayers(); l++) {
        LayerWeights w = model.transformer().weights().layer(l);
        FusedProjections f = model.transformer().weights().fused(l);
        assertEquals(new Shape(c.queryDim() + 2L * c.keyValueDim(), c.hiddenSize()), f.qkv().getShape());
        assertArrayEquals(NDArrays.concat(new NDList(w.wq(), w.wk(), w.wv()), 0).toFloatArray(), f.qkv().toFloatArray());
        assertArrayEquals(NDArrays.concat(new NDList(w.bq(), w.bk(), w.bv()), 0).toFloatArray(), f.qkvBias().toFloatArray());
        assertArrayEquals(NDArrays.concat(new NDList(w.wGate(), w.wUp()), 0).toFloatArray(), f.gateUp().toFloatArray());
      }
    }
  }

  @Test
  void viewsSaveAndReloadAsTheOriginalTensors() throws Exception {
    Path original = TinyModels.write(dir.resolve("original"), true, 8);
    Path copy = java.nio.file.Files.createDirectories(dir.resolve("copy"));
    for (String f : List.of("config.json", "tokenizer.json")) {
      java.nio.file.Files.copy(original.resolve(f), copy.resolve(f));
    }
    try (LanguageModel a = LanguageModel.load(original)) {
      a.transformer().weights().save(copy.resolve("model.safetensors"));
      try (LanguageModel b = LanguageModel.load(copy)) {
        var left = a.transformer().weights().byName();
        var right = b.transformer().weights().byName();
        assertEquals(left.keySet(), right.keySet());
        left.forEach((name, array) -> assertArrayEquals(array.toFloatArray(), right.get(name).toFloatArray(), name));
      }
    }
  }

  @Test
  void aGroupUpdateIsItsMembersUpdatesSideBySide() {
    try (LanguageModel model = TinyModels.load(dir, true, 6);
        LoraAdapter a = LoraAdapter.create("a", 1, model.config(), LoraConfig.of(4, 8, 0, Projection.K, Projection.UP),
            model.manager(), 3);
        LoraAdapter b = LoraAdapter.create("b", 1, model.config(), LoraConfig.of(2, 4, 0, Projection.K, Projection.V),
            model.manager(), 4);
        NDManager m = model.manager().newSubManager()) {
      TinyModels.randomizeB(a);
      TinyModels.randomizeB(b);
      ModelConfig c = model.config();
      NDArray x = m.randomNormal(new Shape(1, 1, c.hiddenSize()));
      long[] qkv = {c.queryDim(), c.keyValueDim(), c.keyValueDim()};
      ActiveAdapters both = ActiveAdapters.of(a, b);
      NDArray k = both.delta(1, Projection.K, x, false);
      NDArray v = both.delta(1, Projection.V, x, false);
      float[] expected = NDArrays.concat(new NDList(m.zeros(new Shape(1, 1, c.queryDim())), k, v), -1).toFloatArray();

      float[] perRequest = both.groupDelta(1, ProjectionGroup.QKV, x, qkv).toFloatArray();
      assertArrayEquals(expected, perRequest, 1e-6f);
      assertNull(both.groupDelta(1, ProjectionGroup.O, x, new long[] {c.hiddenSize()}), "no member of o has an adapter");

      // two rows with different sets, the second without any adapter on q/k/v
      // (slot 2 first held both, then only a: the slot is rewritten, and what a lacks goes back to zero; slot 1 is unused)
      try (ConcatenatedLora withBoth = ConcatenatedLora.of(both, c, m);
          ConcatenatedLora onlyA = ConcatenatedLora.of(ActiveAdapters.of(a), c, m);
          SlotLora slots = new SlotLora(3, m)) {
        slots.assign(0, withBoth);
        slots.assign(2, withBoth);
        slots.assign(2, onlyA);
        NDArray rows = x.concat(x, 0).concat(x, 0);
        ProjectionAdapter batch = slots.forTokens(new int[] {0, 2, -1}, 3, m);
        float[] batched = batch.groupDelta(1, ProjectionGroup.QKV, rows, qkv).toFloatArray();
        float[] expectedA = NDArrays.concat(new NDList(m.zeros(new Shape(1, 1, c.queryDim())), a.delta(1, Projection.K, x, false),
            m.zeros(new Shape(1, 1, c.keyValueDim()))), -1).toFloatArray();
        int width = expected.length;
        for (int i = 0; i < width; i++) {
          assertEquals(expected[i], batched[i], 1e-5, "row 0 (a+b), column " + i);
          assertEquals(expectedA[i], batched[width + i], 1e-5, "row 1 (a only), column " + i);
          assertEquals(0f, batched[2 * width + i], 0f, "row 2 (no adapter), column " + i);
        }
        // a decode step's form (token b is slot b, batched products over the slot views) gives the same rows; slot 1 never held a set
        float[] bySlot = slots.forSlots(3).groupDelta(1, ProjectionGroup.QKV, rows, qkv).toFloatArray();
        for (int i = 0; i < width; i++) {
          assertEquals(expected[i], bySlot[i], 1e-5, "slot 0 (a+b), column " + i);
          assertEquals(0f, bySlot[width + i], 0f, "slot 1 (none), column " + i);
          assertEquals(expectedA[i], bySlot[2 * width + i], 1e-5, "slot 2 (a only), column " + i);
        }
        NDArray gateUp = batch.groupDelta(1, ProjectionGroup.GATE_UP, rows, new long[] {c.intermediateSize(), c.intermediateSize()});
        assertNotNull(gateUp);
        float[] up = a.delta(1, Projection.UP, x, false).toFloatArray();
        float[] got = gateUp.toFloatArray();
        for (int i = 0; i < up.length; i++) {
          assertEquals(0f, got[i], 0f, "gate has no adapter");
          assertEquals(up[i], got[c.intermediateSize() + i], 1e-5, "up, row 0");
        }
      }
    }
  }
}
