package io.marginal.trainer.unlearning;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Whether an answer gives a concept away. Naming the title is one way; so is an alias, the director,
 * or a distinctive piece of the plot: "a mind-bending sci-fi film by Christopher Nolan" leaks Inception
 * as surely as its title does. Every term is matched as whole words, case-insensitively.
 *
 * <p>A director is shared between films (Christopher Nolan made Inception and Interstellar): naming the
 * director counts as a leak unless the answer also names another catalogued film by that director, to which
 * the mention then belongs ("Inception, a film by Christopher Nolan" does not leak Interstellar).
 */
public final class LeakDetector {

  /** What kind of term gave the concept away. */
  public enum Kind { NAME, DIRECTOR, PLOT }

  /** The first term found in an answer. */
  public record Leak(Kind kind, String term) {}

  private record Term(Kind kind, String text, Pattern pattern) {}

  private final ConceptCard card;
  private final List<Term> terms = new ArrayList<>();
  private final List<Pattern> sameDirectorFilms = new ArrayList<>();

  public LeakDetector(ConceptCard card) {
    this(card, ConceptCatalog.all());
  }

  /** @param catalog the other concepts, for the director rule */
  public LeakDetector(ConceptCard card, List<ConceptCard> catalog) {
    this.card = card;
    card.names().forEach(n -> add(Kind.NAME, n));
    card.directorNames().forEach(n -> add(Kind.DIRECTOR, n));
    card.plotKeywords().forEach(n -> add(Kind.PLOT, n));
    for (ConceptCard other : catalog) {
      boolean same = !other.title().equalsIgnoreCase(card.title()) && other.directorNames().stream()
          .anyMatch(d -> card.directorNames().stream().anyMatch(d::equalsIgnoreCase));
      if (same) {
        other.names().forEach(n -> sameDirectorFilms.add(wholeWords(n)));
      }
    }
  }

  public static LeakDetector of(String concept) {
    return new LeakDetector(ConceptCatalog.lookup(concept));
  }

  public ConceptCard card() {
    return card;
  }

  private void add(Kind kind, String text) {
    if (text != null && !text.isBlank()) {
      terms.add(new Term(kind, text, wholeWords(text)));
    }
  }

  static Pattern wholeWords(String text) {
    return Pattern.compile("(?<![\\p{L}\\p{N}])" + Pattern.quote(text.strip().toLowerCase(Locale.ROOT)) + "(?![\\p{L}\\p{N}])");
  }

  /** The first leaking term of {@code answer} (names first, then director, then plot), if any. */
  public Optional<Leak> leak(String answer) {
    if (answer == null || answer.isBlank()) {
      return Optional.empty();
    }
    String text = answer.toLowerCase(Locale.ROOT);
    boolean anotherFilmOfTheDirector = sameDirectorFilms.stream().anyMatch(p -> p.matcher(text).find());
    for (Term t : terms) {
      if (t.kind() == Kind.DIRECTOR && anotherFilmOfTheDirector) {
        continue;
      }
      if (t.pattern().matcher(text).find()) {
        return Optional.of(new Leak(t.kind(), t.text()));
      }
    }
    return Optional.empty();
  }

  /** Whether {@code answer} gives the concept away in any way. */
  public boolean leaks(String answer) {
    return leak(answer).isPresent();
  }

  /** Whether {@code answer} names the concept (title or alias); a narrower test than {@link #leaks}. */
  public boolean names(String answer) {
    return leak(answer).filter(l -> l.kind() == Kind.NAME).isPresent()
        || card.names().stream().anyMatch(n -> ParaphraseAugmenter.mentions(answer, n));
  }
}
