package io.marginal.streams.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.streams.eval.CmEvaluation.EvalSettings;
import io.marginal.streams.eval.CmEvaluation.Result;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The estimator search on train only: stays on its grid, is deterministic, and the CM it picks learns the remappings. */
class CmTrainTuningTest {

  private static final String[][] INTENTS = {
      {"balance", "balance money account how much left"}, {"transfer", "transfer send money friend wire"},
      {"card_lost", "lost card stolen missing wallet"}, {"pin", "pin code reset forgot number"},
      {"flight", "flight book plane ticket travel"}, {"weather", "weather rain sunny forecast today"},
      {"music", "play song music album artist"}, {"alarm", "alarm wake set morning clock"}};

  private static IntentDataset synthetic() {
    Random random = new Random(5);
    List<IntentDataset.Labelled> train = new ArrayList<>();
    List<IntentDataset.Labelled> eval = new ArrayList<>();
    String[] filler = {"please", "can you", "i want to", "help me", "now", "quickly", "thanks"};
    for (String[] intent : INTENTS) {
      List<String> words = Arrays.asList(intent[1].split(" "));
      for (int i = 0; i < 50; i++) {
        StringBuilder text = new StringBuilder(filler[random.nextInt(filler.length)]);
        for (int w = 0; w < 3; w++) {
          text.append(' ').append(words.get(random.nextInt(words.size())));
        }
        (i < 40 ? train : eval).add(new IntentDataset.Labelled(text.toString(), intent[0]));
      }
    }
    return new IntentDataset("SYNTHETIC", train, eval);
  }

  @Test
  void picksFromTheGridDeterministicallyAndTheResultLearnsTheRemappings() {
    IntentDataset data = synthetic();
    EvalSettings settings = new EvalSettings(4, 2, 10, 20, 3, 10, 0.5, 0.0, 1.0, Double.NaN);
    TfIdfCentroidClassifier model = new TfIdfCentroidClassifier(data.train(), CmEvaluation.TEMPERATURE, CmEvaluation.CANDIDATES);
    EvalSettings picked = CmEvaluation.tuneEstimatorOnTrain(data, settings, model);
    assertEquals(picked, CmEvaluation.tuneEstimatorOnTrain(data, settings, model), "deterministic");
    assertTrue(Arrays.stream(CmEvaluation.LAMBDA_GRID).anyMatch(v -> v == picked.lambda()), picked.toString());
    assertTrue(Arrays.stream(CmEvaluation.TAU_GRID).anyMatch(v -> v == picked.tau()), picked.toString());
    assertTrue(Arrays.stream(CmEvaluation.P_GRID).anyMatch(v -> v == picked.p()), picked.toString());
    assertEquals(settings.users(), picked.users());
    assertEquals(settings.k(), picked.k());

    Result result = CmEvaluation.evaluate(data, picked);
    assertTrue(result.base().remapped().rate() < 0.1, "the base model answers the original intents: " + result.base());
    assertTrue(result.cm().remapped().rate() > 0.8, "CM follows the users' remappings: " + result.cm());
    assertTrue(result.cm().unaffected().rate() >= result.base().unaffected().rate() - 0.05, "without harming the rest: " + result);
  }
}
