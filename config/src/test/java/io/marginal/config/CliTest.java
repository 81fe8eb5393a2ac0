package io.marginal.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

class CliTest {

  @Command(name = "tool", description = "A tool.")
  static class Tool implements Callable<Integer> {
    @Option(names = "--rounds", description = "Rounds to run.")
    int rounds = 5;

    @Option(names = "--out", description = "Where to write.")
    String out;

    int ran = -1;

    @Override
    public Integer call() {
      if (rounds < 1) {
        throw new IllegalArgumentException("--rounds must be >= 1, got " + rounds);
      }
      ran = rounds;
      return 0;
    }
  }

  private static String[] run(Object command, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Cli.commandLine(command);
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int status = cl.execute(args);
    return new String[] {String.valueOf(status), out.toString(), err.toString()};
  }

  @Test
  void helpShowsOptionsAndDefaults() {
    String[] r = run(new Tool(), "--help");
    assertEquals("0", r[0]);
    assertTrue(r[1].contains("--rounds") && r[1].contains("Default: 5") && r[1].contains("--help"), r[1]);
  }

  @Test
  void badOptionsExitWithStatus2AndSayWhatWasWrong() {
    String[] r = run(new Tool(), "--rounds", "many");
    assertEquals("2", r[0]);
    assertTrue(r[2].contains("--rounds") && r[2].contains("many"), r[2]);
    r = run(new Tool(), "--nope");
    assertEquals("2", r[0]);
    assertTrue(r[2].contains("Unknown option: '--nope'"), r[2]);
    r = run(new Tool(), "--rounds", "0");
    assertEquals("2", r[0]);
    assertTrue(r[2].contains("--rounds must be >= 1, got 0") && r[2].contains("tool --help"), r[2]);
  }

  @Test
  void goodOptionsRunTheCommand() {
    Tool tool = new Tool();
    assertEquals("0", run(tool, "--rounds", "3")[0]);
    assertEquals(3, tool.ran);
  }

  @Test
  void parseOnlyThrowsIllegalArgument() {
    assertEquals(7, Cli.parse(new Tool(), "--rounds", "7").rounds);
    assertThrows(IllegalArgumentException.class, () -> Cli.parse(new Tool(), "--rounds"));
  }
}
