package io.marginal.ops.demo;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** Prints each step as it happens (what, how long, pass/fail) and a summary at the end. */
final class ScenarioReport {

  record Check(String step, String what, boolean passed, long millis) {
  }

  private final PrintStream out;
  private final List<Check> checks = new ArrayList<>();
  private int stepNumber;
  private String step = "";
  private long stepStarted;

  ScenarioReport(PrintStream out) {
    this.out = out;
  }

  void step(String title) {
    stepNumber++;
    step = stepNumber + ". " + title;
    stepStarted = System.nanoTime();
    out.println();
    out.println("── " + step);
  }

  void say(String format, Object... args) {
    out.println("   " + String.format(format, args));
  }

  void check(String what, boolean passed) {
    long millis = (System.nanoTime() - stepStarted) / 1_000_000;
    checks.add(new Check(step, what, passed, millis));
    out.printf("   %s %s (%d ms)%n", passed ? "✔" : "✘", what, millis);
  }

  boolean allPassed() {
    return checks.stream().allMatch(Check::passed);
  }

  void summary() {
    out.println();
    out.println("Summary");
    for (Check c : checks) {
      out.printf("  %s %-70s %6d ms%n", c.passed() ? "✔" : "✘", c.what(), c.millis());
    }
    long passed = checks.stream().filter(Check::passed).count();
    out.printf("%d passed, %d failed%n", passed, checks.size() - passed);
  }
}
