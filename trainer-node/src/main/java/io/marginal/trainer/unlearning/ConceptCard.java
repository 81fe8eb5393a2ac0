package io.marginal.trainer.unlearning;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a concept is, beyond its title: the names it goes by and the description that gives it away.
 * One JSON file per demo concept under {@code io/marginal/trainer/concepts/} ({@link ConceptCatalog}); a
 * concept with no file gets a card with its title only.
 *
 * @param title          the name a request forgets ("Inception")
 * @param aliases        other names of the same thing ("Matrix")
 * @param director       who made it, as written in indirect probes (may be null)
 * @param directorNames  the strings that name the director in an answer ("Christopher Nolan", "Nolan")
 * @param year           release year (may be null; used by indirect probes)
 * @param plotKeywords   words or phrases distinctive enough that an answer using them describes the concept
 * @param indirectProbes prompts that point at the concept without naming it (director + year + plot); evaluation only
 */
public record ConceptCard(String title, List<String> aliases, String director, List<String> directorNames, Integer year,
                          List<String> plotKeywords, List<String> indirectProbes) {

  public ConceptCard {
    if (title == null || title.isBlank()) {
      throw new IllegalArgumentException("a concept card needs a title");
    }
    aliases = aliases == null ? List.of() : List.copyOf(aliases);
    directorNames = directorNames == null ? List.of() : List.copyOf(directorNames);
    plotKeywords = plotKeywords == null ? List.of() : List.copyOf(plotKeywords);
    indirectProbes = indirectProbes == null ? List.of() : List.copyOf(indirectProbes);
  }

  /** A card that knows only the title (a concept with no data file). */
  public static ConceptCard titleOnly(String title) {
    return new ConceptCard(title, List.of(), null, List.of(), null, List.of(), List.of());
  }

  /** The title and its aliases. */
  public List<String> names() {
    List<String> out = new ArrayList<>();
    out.add(title);
    out.addAll(aliases);
    return out;
  }

  public Optional<String> directorName() {
    return Optional.ofNullable(director);
  }
}
