package io.marginal.ops.eval.cm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** A small, separable intent dataset for evaluation tests: 8 intents × (40 train + 10 eval) rows of 3 intent words + filler. */
final class SyntheticIntents {

  private static final String[][] INTENTS = {
      {"balance", "balance money account how much left"}, {"transfer", "transfer send money friend wire"},
      {"card_lost", "lost card stolen missing wallet"}, {"pin", "pin code reset forgot number"},
      {"flight", "flight book plane ticket travel"}, {"weather", "weather rain sunny forecast today"},
      {"music", "play song music album artist"}, {"alarm", "alarm wake set morning clock"}};

  private SyntheticIntents() {
  }

  static IntentDataset dataset() {
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
}
