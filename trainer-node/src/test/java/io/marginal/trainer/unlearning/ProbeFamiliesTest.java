package io.marginal.trainer.unlearning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.model.demo.DemoTokenizerWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Training and evaluation probe families are disjoint by more than one word, for every demo concept. */
class ProbeFamiliesTest {

  private final ParaphraseAugmenter augmenter = new ParaphraseAugmenter();

  @Test
  void everyEvaluationProbeIsAtLeastTwoWordsFromEveryTrainingPrompt() {
    for (ConceptCard card : ConceptCatalog.all()) {
      // the widest training set: a request whose prompts are the corpus film phrasings and the evaluation probes themselves
      List<String> request = new ArrayList<>(EvaluationProbes.all(card));
      request.add("recommend me a sci-fi film");
      List<String> training = augmenter.trainingPrompts(card.title(), request);
      for (String probe : EvaluationProbes.all(card)) {
        assertFalse(training.contains(probe), card.title() + ": evaluation probe '" + probe + "' is trained on");
        for (String t : training) {
          if (request.contains(t)) {
            continue; // the request's own prompts are removed from training when they are evaluation probes (checked above)
          }
          assertTrue(wordDistance(probe, t) >= 2, card.title() + ": '" + probe + "' is one word away from training prompt '" + t + "'");
        }
      }
    }
  }

  @Test
  void everyConceptHasFourEvaluationFamiliesAndIndirectProbesDoNotNameIt() {
    for (ConceptCard card : ConceptCatalog.all()) {
      Map<String, List<String>> families = EvaluationProbes.families(card);
      assertEquals(EvaluationProbes.FAMILIES, List.copyOf(families.keySet()));
      families.values().forEach(f -> assertFalse(f.isEmpty(), card.title()));
      LeakDetector d = new LeakDetector(card);
      for (String p : families.get(EvaluationProbes.INDIRECT)) {
        assertFalse(d.names(p), card.title() + ": indirect probe names the concept: " + p);
      }
    }
  }

  @Test
  void typosMisspellTheTitleDeterministically() {
    assertEquals("Icneption", EvaluationProbes.typo("Inception"));
    assertTrue(EvaluationProbes.families(ConceptCatalog.lookup("Inception")).get(EvaluationProbes.TYPOS).contains("is Icneption a good film"));
  }

  @Test
  void theRetainEvaluationSetIsLargeDisjointFromTrainingAndHoldsOutWholeIntents() {
    List<String> training = RetainSet.bundledTrainingPrompts();
    List<String> evaluation = RetainSet.bundledEvaluationPrompts();
    assertTrue(evaluation.size() >= 200, "one prompt must be under one point: " + evaluation.size());
    assertTrue(evaluation.stream().noneMatch(training::contains));
    assertTrue(training.stream().noneMatch(RetainSet::ofHeldOutIntent), "held-out intents are never trained on");
    assertTrue(evaluation.stream().filter(RetainSet::ofHeldOutIntent).count() >= 100);
  }

  /** Word-level Levenshtein distance, lower-cased, with the demo tokenizer's word split. */
  static int wordDistance(String a, String b) {
    List<String> x = DemoTokenizerWriter.words(a.toLowerCase(Locale.ROOT));
    List<String> y = DemoTokenizerWriter.words(b.toLowerCase(Locale.ROOT));
    int[] prev = new int[y.size() + 1];
    int[] cur = new int[y.size() + 1];
    for (int j = 0; j <= y.size(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= x.size(); i++) {
      cur[0] = i;
      for (int j = 1; j <= y.size(); j++) {
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (x.get(i - 1).equals(y.get(j - 1)) ? 0 : 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[y.size()];
  }
}
