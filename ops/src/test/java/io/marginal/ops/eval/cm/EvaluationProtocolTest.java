package io.marginal.ops.eval.cm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EvaluationProtocolTest {

  private static final EncodedDataset DATA = new EncodedDataset(SyntheticIntents.dataset());
  private static final EvalSettings SETTINGS = new EvalSettings(3, 2, 10, 20, 1, 1, 10, 0.5, 0.0, 1.0, Double.NaN, 1024);

  @Test
  void targetedAndUniformRemapTheSameIntentsForASeedWithTheSameFeedbackCount() {
    List<SimulatedUser> targeted = EvaluationProtocol.TARGETED.users(DATA, SETTINGS, new Random(4), "u");
    List<SimulatedUser> uniform = EvaluationProtocol.UNIFORM.users(DATA, SETTINGS, new Random(4), "u");
    assertEquals(targeted.get(0).remap(), uniform.get(0).remap());
    assertEquals(40, targeted.get(0).feedback().size());
    assertEquals(40, uniform.get(0).feedback().size());
    assertEquals(40, uniform.get(0).feedback().stream().distinct().count(), "uniform feedback is drawn without replacement");
  }

  @Test
  void goldUsersPreferTheGoldLabelAndGetTheirPercentageOfTrain() {
    List<SimulatedUser> gold = EvaluationProtocol.GOLD_5PCT.users(DATA, SETTINGS, new Random(1), "u");
    assertEquals(1, gold.size());
    assertEquals(Math.round(0.05 * DATA.trainSize()), gold.get(0).feedback().size());
    EncodedDataset.Instance row = DATA.eval().get(0);
    assertEquals(row.label(), gold.get(0).preferred(row.label(), row.embedding()));
    assertEquals(RowGroup.UNAFFECTED, gold.get(0).group(row.label(), row.embedding()));
  }

  @Test
  void instanceDependentUsersRemapOnlyPartOfEachRemappedIntent() {
    SimulatedUser user = EvaluationProtocol.INSTANCE.users(DATA, SETTINGS, new Random(2), "u").get(0);
    for (String intent : user.remap().keySet()) {
      long changed = DATA.trainIndexesOf(intent).stream().map(DATA::train)
          .filter(r -> user.group(r.label(), r.embedding()) == RowGroup.CHANGED).count();
      long all = DATA.trainIndexesOf(intent).size();
      assertTrue(changed > all / 4 && changed < all, intent + ": " + changed + " of " + all + " changed");
    }
  }

  @Test
  void theBankCapMustHoldTheFeedback() {
    SimulatedUser gold = EvaluationProtocol.GOLD_5PCT.users(DATA, SETTINGS, new Random(1), "u").get(0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SimulatedFeedback.bank(gold, DATA, 5));
    assertTrue(e.getMessage().contains("bank cap"), e.getMessage());
  }

  @Test
  void parsesProtocolNames() {
    assertEquals(List.of(EvaluationProtocol.values()), EvaluationProtocol.parse("all"));
    assertEquals(List.of(EvaluationProtocol.UNIFORM, EvaluationProtocol.INSTANCE), EvaluationProtocol.parse("uniform, instance"));
    assertThrows(IllegalArgumentException.class, () -> EvaluationProtocol.parse("paper"));
  }
}
