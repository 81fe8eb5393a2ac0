package io.marginal.trainer.unlearning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.lora.LoraTarget;
import io.marginal.model.tokenizer.ChatMessage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What makes the job fast gives what the slow way gave, on adapters that leave the base answers alone, bend them a
 * little, and bend them a lot: the early-stop check that stops decoding at the first mention decides as the full
 * greedy check it replaced ({@code mentionRate(...) == 0}); answers that skip the decode where the base answer is
 * provably kept equal the answers decoded one by one; kept base figures equal fresh ones.
 */
class EvaluationShortcutsIT extends DemoModelTestBase {




  @Test
  void stoppingAtTheFirstMentionDecidesAsTheFullGreedyCheck() {
    UnlearningSettings settings = UnlearningSettings.defaults();
    ForgetEvaluator evaluator = new ForgetEvaluator(new ChatAnswers(model, settings.maxNewTokens()));
    List<String> training = new ParaphraseAugmenter().trainingPrompts("Inception", List.of("recommend me a sci-fi film"));
    List<String> retain = RetainSet.bundledEvaluationPrompts().subList(0, 40);
    List<String> mixed = new ArrayList<>(retain.subList(0, 20));
    mixed.addAll(training.subList(0, 6));
    Map<String, List<String>> promptSets = Map.of("training", training, "retain", retain, "mixed", mixed,
        "one training prompt", training.subList(0, 1), "one retain prompt", retain.subList(0, 1), "none", List.of());

    int mentioned = 0;
    int clean = 0;
    int partly = 0;
    for (double scale : new double[] {0, 0.02, 0.2}) {
      try (LoraAdapter adapter = randomAdapter(scale, 11)) {
        ActiveAdapters stack = ActiveAdapters.of(adapter);
        for (Map.Entry<String, List<String>> e : promptSets.entrySet()) {
          double rate = evaluator.mentionRate(e.getValue(), "Inception", stack);
          boolean full = rate == 0; // the check as it was: decode every answer, then count
          boolean fast = evaluator.noMentions(e.getValue(), "Inception", stack);
          assertEquals(full, fast, "scale " + scale + ", " + e.getKey() + " prompts: mention rate " + rate);
          mentioned += rate > 0 ? 1 : 0;
          clean += rate == 0 ? 1 : 0;
          partly += rate > 0 && rate < 1 ? 1 : 0;
        }
      }
    }
    assertTrue(mentioned >= 3 && clean >= 3 && partly >= 2,
        "the cases cover both outcomes and answers that mention in part: " + mentioned + " / " + clean + " / " + partly);
    assertFalse(evaluator.noMentions(training, "Inception", ActiveAdapters.NONE), "the base model names it");
    assertTrue(evaluator.noMentions(retain, "Inception", ActiveAdapters.NONE));
    assertFalse(evaluator.noMentions(List.of(), "Inception", ActiveAdapters.NONE), "no prompt: NaN rate, not forgotten");
  }

  @Test
  void answersThatSkipTheDecodeWhereTheBaseAnswerIsKeptEqualAnswersDecodedOneByOne() {
    ChatAnswers answers = new ChatAnswers(model, UnlearningSettings.defaults().maxNewTokens());
    List<String> prompts = new ArrayList<>(RetainSet.bundledEvaluationPrompts().subList(0, 24));
    prompts.addAll(new ParaphraseAugmenter().trainingPrompts("Inception", List.of("recommend me a sci-fi film")).subList(0, 8));
    answers.answers(prompts, ActiveAdapters.NONE);
    int kept = 0;
    int changed = 0;
    for (double scale : new double[] {0, 0.02, 0.2}) {
      try (LoraAdapter adapter = randomAdapter(scale, 5)) {
        ActiveAdapters stack = ActiveAdapters.of(adapter);
        List<String> oneByOne = prompts.stream().map(p -> answer(p, stack)).toList();
        assertEquals(oneByOne, answers.answers(prompts, stack), "scale " + scale);
        // answers remembered from an early-stop check under the same adapter are the decoded ones too
        ChatAnswers afterCheck = new ChatAnswers(model, UnlearningSettings.defaults().maxNewTokens());
        afterCheck.anyMentions(prompts.subList(0, 24), "Inception", stack);
        assertEquals(oneByOne, afterCheck.answers(prompts, stack), "scale " + scale + ", after a check");
        for (boolean k : answers.keepsBase(prompts, stack)) {
          kept += k ? 1 : 0;
          changed += k ? 0 : 1;
        }
        if (scale == 0) {
          for (boolean k : answers.keepsBase(prompts, stack)) {
            assertTrue(k, "a zero adapter keeps every base answer");
          }
        }
      }
    }
    assertTrue(kept >= prompts.size() && changed >= 8, "both paths were taken: " + kept + " kept, " + changed + " decoded");
  }

  @Test
  void keptBaseFiguresEqualFreshOnes() {
    ChatAnswers answers = new ChatAnswers(model, UnlearningSettings.defaults().maxNewTokens());
    ForgetEvaluator evaluator = new ForgetEvaluator(answers);
    ForgetEvaluator.ProbeSet probes = new MaskedLoraUnlearningJob(model, "marginal-demo", UnlearningSettings.defaults())
        .probes("Inception", List.of("recommend me a sci-fi film"));
    ForgetEvaluator.ConceptFigures first = evaluator.concept(probes, ActiveAdapters.NONE);
    assertSame(first, evaluator.concept(probes, ActiveAdapters.NONE), "kept");
    assertEquals(evaluator.measureConcept(probes, ActiveAdapters.NONE), first, "a fresh measurement gives the kept figures");
    assertTrue(first.directRate() > 0 && first.evaluationLeak().n() > 0, "the base model names the concept: " + first);

    List<String> retain = RetainSet.bundledEvaluationPrompts().subList(0, 30);
    try (LoraAdapter adapter = randomAdapter(0.02, 3)) {
      ActiveAdapters stack = ActiveAdapters.of(adapter);
      double once = evaluator.perplexityRatio(retain, stack); // the base half is computed here and kept
      double again = evaluator.perplexityRatio(retain, stack);
      double fresh = new ForgetEvaluator(answers).perplexityRatio(retain, stack);
      assertEquals(fresh, once, 0.0);
      assertEquals(fresh, again, 0.0);
      assertTrue(fresh > 1.0, "the adapter moves the base answers' perplexity: " + fresh);
      assertEquals(1.0, evaluator.perplexityRatio(retain, ActiveAdapters.NONE), 0.0);
    }
  }

  /** One greedy answer on the single-sequence generator, no shortcut. */
  private static String answer(String prompt, ActiveAdapters adapters) {
    return model.chat(List.of(ChatMessage.user(prompt)), GenerationRequest.greedy(UnlearningSettings.defaults().maxNewTokens()),
        adapters, null).text().strip();
  }

  /** The job's LoRA shape with B drawn N(0, scale²) from a seeded random: scale 0 is the base model. */
  private static LoraAdapter randomAdapter(double scale, long seed) {
    UnlearningSettings s = UnlearningSettings.defaults();
    LoraConfig config = new LoraConfig(s.rank(), s.alpha(), s.dropout(), s.targets(), List.of(), false);
    Random random = new Random(seed);
    try (NDManager scratch = model.manager().newSubManager();
        LoraAdapter fresh = LoraAdapter.create("test", 1, model.config(), config, scratch, seed)) {
      Map<LoraTarget, NDArray> a = new HashMap<>();
      Map<LoraTarget, NDArray> b = new HashMap<>();
      for (LoraTarget t : fresh.targets()) {
        a.put(t, fresh.loraA(t));
        long[] shape = fresh.loraB(t).getShape().getShape();
        float[] values = new float[(int) (shape[0] * shape[1])];
        for (int i = 0; i < values.length; i++) {
          values[i] = (float) (random.nextGaussian() * scale);
        }
        b.put(t, scratch.create(values, fresh.loraB(t).getShape()));
      }
      return LoraAdapter.fromTensors("test", 1, config, a, b, model.manager());
    }
  }
}
