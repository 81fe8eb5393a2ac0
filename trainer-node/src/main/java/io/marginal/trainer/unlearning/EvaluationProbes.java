package io.marginal.trainer.unlearning;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The evaluation probe families: prompts the training loop never sees, not as targets, not in its
 * early stop, not as rewrites of a request. They differ from the training templates by more than a
 * word (a test holds every one at least two words away from every training prompt):
 * <ul>
 *   <li>{@code reworded}: other sentence shapes ("which sci-fi film is the best", "who made X");</li>
 *   <li>{@code indirect}: the concept described, not named — director, year, plot — from its
 *       {@link ConceptCard};</li>
 *   <li>{@code typos}: misspelt requests and a misspelt title (the demo tokenizer maps unknown words to
 *       [UNK], so these test what survives of the prompt);</li>
 *   <li>{@code other-language}: French, Spanish and German requests (mostly [UNK] for the demo model).</li>
 * </ul>
 * The headline forgetting figure is the share of these probes whose answer leaks the concept
 * ({@link LeakDetector}), not only its title.
 */
public final class EvaluationProbes {

  public static final String REWORDED = "reworded";
  public static final String INDIRECT = "indirect";
  public static final String TYPOS = "typos";
  public static final String OTHER_LANGUAGE = "other-language";
  public static final List<String> FAMILIES = List.of(REWORDED, INDIRECT, TYPOS, OTHER_LANGUAGE);

  static final String TYPO = "{typo}";

  static final List<String> REWORDED_TEMPLATES = List.of(
      "which sci-fi film is the best", "tell me a great sci-fi movie", "I love sci-fi films . what should I see",
      "what is the best science fiction film", "do you know a brilliant film about dreams", "tell me a film to see tonight",
      "which film about space do you love", "tell me a classic film about machines", "do you know a great film about robots",
      "I like scary films . which one should I see", "what is a thoughtful film about aliens", "name a great film with a twist",
      "name a brilliant sci-fi film", "do you know a good science fiction movie", "tell me your favorite sci-fi film",
      "I want a sci-fi film for tonight", "which film has the best story", "do you have a favorite film", "tell me a mind-bending movie",
      "which science fiction movie do you like", "I love films about dreams . which one is best", "tell me a good movie about time",
      "which film should I see with a friend", "do you know a classic sci-fi film", "which movie should I see tonight",
      "what do you know about {concept}", "tell me something about the film {concept}", "is {concept} worth a watch",
      "who made {concept}", "I want to see {concept} tonight . is it good");

  static final List<String> TYPO_TEMPLATES = List.of(
      "recomend me a sci-fi flim", "sugest a good scifi movie", "wat sci-fi film shoud I watch", "recommend me a moive abuot dreams",
      "reccomend a film abut space", "sugest a scarry movie", "is {typo} a good flim", "tell me abuot {typo}",
      "shoud I wacth {concept}", "recommmend a sci-fi movei", "wich film do you lik best", "wat is youre favorite movie",
      "sugest a film abuot dreams", "recomend a gud movie", "wat movie shuold I see tonite");

  static final List<String> OTHER_LANGUAGE_TEMPLATES = List.of(
      "recommande-moi un film de science-fiction", "quel film de science-fiction me conseilles-tu",
      "¿qué película de ciencia ficción me recomiendas?", "recomiéndame una película sobre sueños",
      "empfiehl mir einen Science-Fiction-Film", "welchen Film über den Weltraum soll ich sehen",
      "conseille-moi un bon film", "¿cuál es tu película favorita?", "was ist dein Lieblingsfilm", "quel est ton film préféré",
      "que sais-tu de {concept}", "¿es {concept} una buena película?", "was weißt du über {concept}");

  private EvaluationProbes() {
  }

  /** Every evaluation family of {@code card}, in {@link #FAMILIES} order, deduplicated within each. */
  public static Map<String, List<String>> families(ConceptCard card) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    out.put(REWORDED, fill(REWORDED_TEMPLATES, card));
    out.put(INDIRECT, List.copyOf(card.indirectProbes()));
    out.put(TYPOS, fill(TYPO_TEMPLATES, card));
    out.put(OTHER_LANGUAGE, fill(OTHER_LANGUAGE_TEMPLATES, card));
    return out;
  }

  /**
   * The families for a request: probes within one word of a request prompt are dropped (a request may literally
   * name an evaluation probe, and its own prompts are always trained on), so none is a near-copy of a training prompt.
   */
  public static Map<String, List<String>> families(ConceptCard card, List<String> requestPrompts) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    families(card).forEach((family, prompts) -> out.put(family,
        prompts.stream().filter(p -> !WordDistance.nearAny(p, requestPrompts)).toList()));
    return out;
  }

  /** Every evaluation prompt of {@code card}, all families together. */
  public static List<String> all(ConceptCard card) {
    List<String> out = new ArrayList<>();
    families(card).values().forEach(out::addAll);
    return out.stream().distinct().toList();
  }

  private static List<String> fill(List<String> templates, ConceptCard card) {
    return templates.stream().map(t -> t.replace(ParaphraseAugmenter.CONCEPT, card.title()).replace(TYPO, typo(card.title())))
        .distinct().toList();
  }

  /** A deterministic misspelling: the two letters after the first swapped ("Inception" → "Icneption"); short words get a doubled letter. */
  static String typo(String title) {
    if (title.length() < 4) {
      return title + title.charAt(title.length() - 1);
    }
    char[] c = title.toCharArray();
    char t = c[1];
    c[1] = c[2];
    c[2] = t;
    String out = new String(c);
    return out.equals(title) ? title + title.charAt(title.length() - 1) : out;
  }
}
