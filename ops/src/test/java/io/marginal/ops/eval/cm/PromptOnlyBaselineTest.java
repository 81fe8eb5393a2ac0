package io.marginal.ops.eval.cm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.MemoryBank;
import io.marginal.personalization.bank.MemoryBankUpdater;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PromptOnlyBaselineTest {

  private static final Map<String, Double> BASE = base();

  @Test
  void answersTheNearestExemplarsPreferredLabelOnlyAboveTheThreshold() {
    // exemplar e1 at cos 0.8 from x says A→B; e2 at cos 0.6 says C→D
    MemoryBank bank = bank(entry("e1", new float[] {0.8f, 0.6f, 0}, "A", "B", 1),
        entry("e2", new float[] {0.6f, 0, 0.8f}, "C", "D", 1));
    float[] x = {1, 0, 0};

    PromptOnlyBaseline.Retrieval r = PromptOnlyBaseline.retrieve(bank, x);
    assertEquals("e1", r.exemplar().getEntryId().toString());
    assertEquals(0.8, r.similarity(), 1e-6);

    assertEquals("B", new PromptOnlyBaseline(0.5).answer(bank, x, BASE));
    assertEquals("B", new PromptOnlyBaseline(0.79).answer(bank, x, BASE));
    assertEquals("A", new PromptOnlyBaseline(0.8).answer(bank, x, BASE), "s must exceed the threshold");
    assertEquals("A", new PromptOnlyBaseline(0.9).answer(bank, x, BASE));
  }

  @Test
  void copiesTheExemplarLabelWhateverTheModelAnswersNow() {
    // unlike CM, the exemplar's model response (C) need not match the current answer (A)
    MemoryBank bank = bank(entry("e1", new float[] {1, 0, 0}, "C", "D", 1));
    assertEquals("D", new PromptOnlyBaseline(0.5).answer(bank, new float[] {1, 0, 0}, BASE));
  }

  @Test
  void thumbsDownEntriesAreNotExemplarsAndAnEmptyBankGivesTheBaseAnswer() {
    MemoryBank bank = bank(entry("down", new float[] {1, 0, 0}, "A", "A", -1),
        entry("up", new float[] {0, 1, 0}, "B", "B", 1));
    PromptOnlyBaseline.Retrieval r = PromptOnlyBaseline.retrieve(bank, new float[] {1, 0, 0});
    assertEquals("up", r.exemplar().getEntryId().toString());
    assertEquals(0.0, r.similarity(), 1e-9);
    assertEquals("A", new PromptOnlyBaseline(0.0).answer(bank, new float[] {1, 0, 0}, BASE));

    assertNull(PromptOnlyBaseline.retrieve(MemoryBankUpdater.empty("u", Instant.EPOCH), new float[] {1, 0, 0}).exemplar());
    assertEquals("A", new PromptOnlyBaseline(-1).answer(MemoryBankUpdater.empty("u", Instant.EPOCH), new float[] {1, 0, 0}, BASE));
  }

  @Test
  void thresholdOfOneNeverOverridesEvenAnIdenticalInstance() {
    MemoryBank bank = bank(entry("e1", new float[] {1, 0, 0}, "A", "B", 1));
    assertEquals("A", new PromptOnlyBaseline(1.0).answer(bank, new float[] {1, 0, 0}, BASE));
  }

  @Test
  void tuningPicksTheThresholdWithMostHitsAndPrefersTheHigherOnTies() {
    BankEntry toB = entry("e", new float[] {1, 0, 0}, "A", "B", 1);
    // base answers A everywhere. Probe 1 (s=0.92) wants B, probe 2 (s=0.72) wants B, probe 3 (s=0.42) wants A.
    List<PromptOnlyBaseline.Probe> probes = List.of(
        new PromptOnlyBaseline.Probe(new PromptOnlyBaseline.Retrieval(toB, 0.92), BASE, "B"),
        new PromptOnlyBaseline.Probe(new PromptOnlyBaseline.Retrieval(toB, 0.72), BASE, "B"),
        new PromptOnlyBaseline.Probe(new PromptOnlyBaseline.Retrieval(toB, 0.42), BASE, "A"));
    // thresholds in [0.45, 0.70] all get 3 hits; the highest of them is 0.70
    assertEquals(0.70, PromptOnlyBaseline.tuneThreshold(probes), 1e-9);

    // if nearby exemplars mislead, never overriding (1.0) wins
    List<PromptOnlyBaseline.Probe> misleading = List.of(
        new PromptOnlyBaseline.Probe(new PromptOnlyBaseline.Retrieval(toB, 0.9), BASE, "A"));
    assertEquals(1.0, PromptOnlyBaseline.tuneThreshold(misleading), 1e-9);
  }

  private static Map<String, Double> base() {
    Map<String, Double> p = new LinkedHashMap<>();
    p.put("A", 0.6);
    p.put("B", 0.3);
    p.put("C", 0.1);
    return p;
  }

  private static MemoryBank bank(BankEntry... entries) {
    MemoryBank bank = MemoryBankUpdater.empty("u", Instant.EPOCH);
    for (BankEntry e : entries) {
      bank = MemoryBankUpdater.apply(bank, e, 256, Instant.EPOCH);
    }
    return bank;
  }

  private static BankEntry entry(String id, float[] x, String r, String y, double w) {
    List<Float> emb = new ArrayList<>();
    for (float f : x) {
      emb.add(f);
    }
    return BankEntry.newBuilder().setEntryId(id).setInteractionId("i-" + id).setFeedbackIds(List.of(id))
        .setInstanceEmbedding(emb).setPrompt("p").setModelResponse(r).setPreferredResponse(y).setWeight(w)
        .setTimestamp(Instant.EPOCH).build();
  }
}
