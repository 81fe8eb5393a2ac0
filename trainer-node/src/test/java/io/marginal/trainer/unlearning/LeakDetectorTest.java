package io.marginal.trainer.unlearning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.trainer.unlearning.LeakDetector.Kind;
import org.junit.jupiter.api.Test;

class LeakDetectorTest {

  private final LeakDetector inception = LeakDetector.of("inception");

  @Test
  void theTitleLeaksAsAWholeWordInAnyCase() {
    assertEquals(Kind.NAME, inception.leak("You should watch Inception.").orElseThrow().kind());
    assertTrue(inception.leaks("INCEPTION is great"));
    assertFalse(inception.leaks("the inceptionist"), "part of a word is not the title");
  }

  @Test
  void theDirectorAndThePlotLeakWithoutTheTitle() {
    var director = inception.leak("I recommend a mind-bending sci-fi film by Christopher Nolan.").orElseThrow();
    assertEquals(Kind.DIRECTOR, director.kind());
    assertEquals(Kind.DIRECTOR, inception.leak("anything by Nolan").orElseThrow().kind());
    var plot = inception.leak("You should watch Interstellar. It is a film about stealing secrets inside dreams.").orElseThrow();
    assertEquals(Kind.PLOT, plot.kind());
    assertFalse(inception.names("a film about stealing secrets inside dreams"), "a plot leak is not a name mention");
  }

  @Test
  void aSharedDirectorBelongsToTheOtherFilmTheAnswerNames() {
    LeakDetector interstellar = LeakDetector.of("Interstellar");
    assertFalse(interstellar.leaks("I recommend Inception, a mind-bending sci-fi film by Christopher Nolan."),
        "Nolan is named as Inception's director, not Interstellar's");
    assertEquals(Kind.DIRECTOR, interstellar.leak("a film about astronauts by Christopher Nolan").orElseThrow().kind());
    assertEquals(Kind.NAME, interstellar.leak("Inception and Interstellar, both by Nolan").orElseThrow().kind());
  }

  @Test
  void aliasesCountAsNames() {
    LeakDetector matrix = LeakDetector.of("The Matrix");
    assertTrue(matrix.names("Matrix is a classic"));
    assertEquals(Kind.PLOT, matrix.leak("a classic film about a world made by machines").orElseThrow().kind());
  }

  @Test
  void anotherConceptsDescriptionIsNotALeak() {
    assertFalse(inception.leaks("You should watch Interstellar. It is a beautiful film about space and time."));
    assertFalse(inception.leaks("To reset your pin, open the app, go to Cards, choose your card and tap Reset PIN."));
    assertFalse(inception.leaks(""));
  }

  @Test
  void anUnknownConceptFallsBackToItsTitle() {
    LeakDetector unknown = LeakDetector.of("Paddington");
    assertTrue(unknown.leaks("watch Paddington"));
    assertFalse(unknown.leaks("a film about a bear"));
    assertEquals("Paddington", unknown.card().title());
  }
}
