package io.marginal.trainer.unlearning;

import io.marginal.model.LanguageModel;
import io.marginal.model.demo.DemoCorpus;
import io.marginal.model.scoring.Continuation;
import io.marginal.model.tokenizer.ChatMessage;
import io.marginal.schemas.Example;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What must keep working: general prompts of the demo domains (chit-chat, banking and travel
 * intents, recommendations of other films) answered as the base model answers them, plus the
 * request's own retain examples. The bundled prompts are split in two — alternate phrasings of
 * each intent, and whole intents ({@link #HELD_OUT_INTENTS}) the retain loss never sees — so that retain
 * utility is measured on prompts, and on intents, the retain loss never saw.
 * Prompts whose base answer names a concept being forgotten are left out of both halves.
 */
public final class RetainSet {

  /** A retain example: the prompt, the answer to keep, and its scored sequence (the whole answer). */
  public record RetainExample(String prompt, String answer, Continuation sequence, double weight) {
    public int length() {
      return sequence.continuation().length;
    }
  }

  private final List<RetainExample> training;
  private final List<String> evaluationPrompts;

  private RetainSet(List<RetainExample> training, List<String> evaluationPrompts) {
    this.training = List.copyOf(training);
    this.evaluationPrompts = List.copyOf(evaluationPrompts);
  }

  /**
   * Intents the retain loss never sees (none of their phrasings is trained on): agreement on them measures
   * utility on behaviour the job did not protect explicitly. A fixed list, spread over the demo domains,
   * including one film intent (aliens → Arrival), a neighbour of the films being forgotten.
   */
  public static final Set<String> HELD_OUT_INTENTS = Set.of("how_are_you", "thanks", "weather", "balance", "card_declined",
      "exchange_rate", "hotel", "passport", "aliens");

  /** Bundled prompts used for training: even phrasings of every intent not held out, as written. */
  public static List<String> bundledTrainingPrompts() {
    List<String> out = new ArrayList<>();
    for (DemoCorpus.Block block : DemoCorpus.blocks()) {
      if (HELD_OUT_INTENTS.contains(block.intent())) {
        continue;
      }
      List<String> phrasings = block.userPhrasings();
      for (int i = 0; i < phrasings.size(); i += 2) {
        out.add(phrasings.get(i));
      }
    }
    return out;
  }

  /**
   * Bundled prompts used for evaluation only: the odd phrasings of trained intents and every phrasing of a
   * held-out intent, each in four surface forms (as written, capitalised, capitalised with "?", with
   * "please"), so that one prompt is well under one point. None is a training prompt.
   */
  public static List<String> bundledEvaluationPrompts() {
    Set<String> out = new LinkedHashSet<>();
    for (DemoCorpus.Block block : DemoCorpus.blocks()) {
      boolean heldOut = HELD_OUT_INTENTS.contains(block.intent());
      List<String> phrasings = block.userPhrasings();
      for (int i = 0; i < phrasings.size(); i++) {
        if (heldOut || i % 2 == 1) {
          out.addAll(surfaceForms(phrasings.get(i)));
        }
      }
    }
    out.removeAll(bundledTrainingPrompts());
    return new ArrayList<>(out);
  }

  /** Whether {@code prompt} is a surface form of a phrasing of a held-out intent. */
  public static boolean ofHeldOutIntent(String prompt) {
    return HELD_OUT_PROMPTS.contains(prompt);
  }

  private static final Set<String> HELD_OUT_PROMPTS = heldOutPrompts();

  private static Set<String> heldOutPrompts() {
    Set<String> out = new java.util.HashSet<>();
    for (DemoCorpus.Block block : DemoCorpus.blocks()) {
      if (HELD_OUT_INTENTS.contains(block.intent())) {
        block.userPhrasings().forEach(p -> out.addAll(surfaceForms(p)));
      }
    }
    return out;
  }

  static List<String> surfaceForms(String u) {
    String cap = Character.toUpperCase(u.charAt(0)) + u.substring(1);
    return List.copyOf(new LinkedHashSet<>(List.of(u, cap, cap + "?", u + " please")));
  }

  /** The corpus answers of every bundled prompt and its surface forms (an intent may have several). */
  public static java.util.Map<String, List<String>> expectedAnswers() {
    java.util.Map<String, List<String>> out = new java.util.HashMap<>();
    for (DemoCorpus.Block block : DemoCorpus.blocks()) {
      block.userPhrasings().forEach(p -> surfaceForms(p).forEach(f -> out.put(f, block.answers())));
    }
    return out;
  }

  /**
   * @param concepts  every concept this adapter version forgets (its own and earlier requests')
   * @param requested retain examples carried by requests (a user's surviving preferences)
   */
  public static RetainSet build(ChatAnswers answers, Collection<String> concepts, Collection<Example> requested) {
    LanguageModel model = answers.model();
    List<RetainExample> training = new ArrayList<>();
    List<String> all = new ArrayList<>(bundledTrainingPrompts());
    all.addAll(bundledEvaluationPrompts());
    answers.answers(all, io.marginal.model.lora.ActiveAdapters.NONE); // base answers decoded as batches, then cached
    for (String prompt : bundledTrainingPrompts()) {
      String answer = answers.base(prompt);
      if (!mentionsAny(answer, concepts) && !answer.isBlank()) {
        training.add(example(model, prompt, answer, 1.0));
      }
    }
    Set<String> seen = new LinkedHashSet<>();
    for (Example e : requested) {
      if (seen.add(e.getPrompt() + "\u0000" + e.getResponse()) && !mentionsAny(e.getResponse(), concepts)) {
        training.add(example(model, e.getPrompt(), e.getResponse(), e.getWeight()));
      }
    }
    List<String> evaluation = bundledEvaluationPrompts().stream()
        .filter(p -> !mentionsAny(answers.base(p), concepts)).toList();
    return new RetainSet(training, evaluation);
  }

  static RetainExample example(LanguageModel model, String prompt, String answer, double weight) {
    return new RetainExample(prompt, answer, model.chatContinuation(List.of(ChatMessage.user(prompt)), answer), weight);
  }

  static boolean mentionsAny(String text, Collection<String> concepts) {
    return concepts.stream().anyMatch(c -> ParaphraseAugmenter.mentions(text, c));
  }

  public List<RetainExample> training() {
    return training;
  }

  public List<String> evaluationPrompts() {
    return evaluationPrompts;
  }
}
