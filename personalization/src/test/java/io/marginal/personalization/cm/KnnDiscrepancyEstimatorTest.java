package io.marginal.personalization.cm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.MemoryBank;
import io.marginal.personalization.bank.MemoryBankUpdater;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KnnDiscrepancyEstimatorTest {

  private final DiscrepancyEstimator cm = KnnDiscrepancyEstimator.defaults();
  private static final float[] NEAR = {1, 0, 0, 0};
  private static final float[] FAR = {0, 0, 0, 1};

  private static Map<String, Double> base() {
    Map<String, Double> p = new LinkedHashMap<>();
    p.put("A", 0.6);
    p.put("B", 0.3);
    p.put("C", 0.1);
    return p;
  }

  @Test
  void emptyBankReturnsTheInputUnchanged() {
    Map<String, Double> p = base();
    assertSame(p, cm.marginalize(null, NEAR, p));
    assertEquals(p, cm.marginalize(MemoryBankUpdater.empty("u", Instant.EPOCH), NEAR, p));
  }

  @Test
  void userWhoPrefersBOverAGetsMoreMassOnBNearThoseInstancesButNotFarAway() {
    MemoryBank bank = bank(entry("e1", new float[] {0.99f, 0.14f, 0, 0}, "A", "B", 1),
        entry("e2", new float[] {0.98f, 0, 0.2f, 0}, "A", "B", 1),
        entry("e3", new float[] {1, 0, 0, 0}, "A", "B", 1));

    Map<String, Double> near = cm.marginalize(bank, NEAR, base());
    assertTrue(near.get("B") > near.get("A"), "B overtakes A near the feedback: " + near);
    assertTrue(near.get("B") > 0.3 + 0.3, near.toString());
    assertEquals(1.0, near.values().stream().mapToDouble(Double::doubleValue).sum(), 1e-9);
    assertEquals(0.1, near.get("C"), 1e-12, "rows without feedback stay the identity");

    assertEquals(base(), cm.marginalize(bank, FAR, base()), "far from every entry: unchanged");
  }

  @Test
  void preferredResponseOutsideTheCandidatesJoinsTheSupport() {
    MemoryBank bank = bank(entry("e1", NEAR, "A", "Z", 1), entry("e2", NEAR, "A", "Z", 1));
    Map<String, Double> p = cm.marginalize(bank, NEAR, base());
    assertTrue(p.get("Z") > 0.3, p.toString());
    assertEquals(1.0, p.values().stream().mapToDouble(Double::doubleValue).sum(), 1e-9);
  }

  @Test
  void thumbsDownMovesMassFromTheServedResponseToTheOtherCandidatesNeverBelowZero() {
    List<BankEntry> downs = new ArrayList<>();
    for (int n = 0; n < 5; n++) {
      downs.add(entry("d" + n, NEAR, "A", "A", -1));
    }
    Map<String, Double> p = cm.marginalize(bank(downs.toArray(BankEntry[]::new)), NEAR, base());
    assertEquals(0.0, p.get("A"), 1e-12);
    assertEquals(0.75, p.get("B"), 1e-9, "A's mass split 3:1 like the base B:C");
    assertEquals(0.25, p.get("C"), 1e-9);
  }

  @Test
  void thumbsUpOnlyReinforcesTheServedResponse() {
    MemoryBank bank = bank(entry("u1", NEAR, "A", "A", 1));
    assertEquals(base(), cm.marginalize(bank, NEAR, base()));
  }

  @Test
  void perUserPriorIsSmallForLocallyConsistentFeedbackAndLargeForContradictoryFeedback() {
    KnnDiscrepancyEstimator calibrated = KnnDiscrepancyEstimator.calibratedPerUser(10, new double[] {0.05, 1, 10}, 0, 1);
    List<BankEntry> consistent = new ArrayList<>();
    List<BankEntry> contradictory = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      float[] x = {1, 0.01f * i, 0, 0};
      consistent.add(entry("c" + i, x, "A", "B", 1));
      contradictory.add(entry("d" + i, x, "A", i % 2 == 0 ? "B" : "A", 1));
    }
    // held-out A→B entries are predicted by the other five A→B unless λ outweighs them: 0.05 and 1 both hit, the larger wins
    assertEquals(1.0, calibrated.identityPriorFor(bank(consistent.toArray(BankEntry[]::new))));
    // half say B, half keep A: only a λ large enough to keep A gets the A→A half right
    MemoryBank mixed = bank(contradictory.toArray(BankEntry[]::new));
    assertEquals(10.0, calibrated.identityPriorFor(mixed));
    assertEquals(10.0, calibrated.identityPriorFor(mixed), "cached for the same bank");
    assertEquals(0.5, KnnDiscrepancyEstimator.defaults().identityPriorFor(mixed), "a fixed λ stays fixed");
    Map<String, Double> p = base();
    assertEquals(p, calibrated.marginalize(MemoryBankUpdater.empty("u", Instant.EPOCH), NEAR, p), "no feedback: the base model");
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
