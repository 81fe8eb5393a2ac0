package io.marginal.config;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

/**
 * How every main of the project reads its command line (picocli): {@code -h}/{@code --help} prints the
 * usage with each option's default; an unknown option or a bad value prints what was wrong and the
 * usage to stderr and exits with status 2 (or the command's {@code exitCodeOnInvalidInput}); a
 * command that throws {@link IllegalArgumentException} (a value picocli cannot check by itself, a bad
 * {@code MARGINAL_*} setting) is reported the same way, with its message and a pointer to
 * {@code --help}. A file that cannot be read ({@link UncheckedIOException}) prints its message and
 * exits 1.
 */
public final class Cli {

  /** Exit status for a bad command line: picocli's, and what the tools used before it. */
  public static final int USAGE = CommandLine.ExitCode.USAGE;

  private Cli() {
  }

  /** A picocli command line for {@code command} with this project's conventions. */
  public static CommandLine commandLine(Object command) {
    CommandLine cl = new CommandLine(command);
    CommandSpec spec = cl.getCommandSpec();
    if (spec.optionsMap().get("--help") == null) {
      spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help and exit.").build());
    }
    spec.usageMessage().showDefaultValues(true).sortOptions(false).width(120);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler((e, line, parsed) -> {
      if (e instanceof IllegalArgumentException && !(e instanceof NumberFormatException)) {
        reportBadUsage(line, e.getMessage());
        return line.getCommandSpec().exitCodeOnInvalidInput();
      }
      if (e instanceof UncheckedIOException) {
        // a file that is not there or cannot be read: the message names it
        line.getErr().println(line.getColorScheme().errorText(e.getMessage()));
        line.getErr().flush();
        return line.getCommandSpec().exitCodeOnExecutionException();
      }
      throw e;
    });
    return cl;
  }

  /** Parses {@code args} into {@code command}, runs it, and returns the exit status (0 after {@code --help}). */
  public static int execute(Object command, String... args) {
    return commandLine(command).execute(args);
  }

  /**
   * {@link #execute} for a {@code main}: exits the JVM only with a non-zero status, so that a main that
   * returns leaves its non-daemon threads (a server) running and ends nothing else in its JVM
   * ({@code exec:java} runs mains inside Maven).
   */
  public static void run(Object command, String... args) {
    run(commandLine(command), args);
  }

  /** {@link #run(Object, String...)} for a command line from {@link #commandLine} that was set up further. */
  public static void run(CommandLine line, String... args) {
    int status = line.execute(args);
    if (status != 0) {
      System.exit(status);
    }
  }

  /**
   * Parses {@code args} into {@code command} without running it (for code and tests that want the
   * options only).
   *
   * @throws IllegalArgumentException with picocli's message for an unknown option or a bad value
   */
  public static <T> T parse(T command, String... args) {
    try {
      commandLine(command).parseArgs(args);
      return command;
    } catch (ParameterException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  private static void reportBadUsage(CommandLine line, String message) {
    PrintWriter err = line.getErr();
    err.println(line.getColorScheme().errorText(message));
    err.println("Try '" + line.getCommandName() + " --help' for the options.");
    err.flush();
  }
}
