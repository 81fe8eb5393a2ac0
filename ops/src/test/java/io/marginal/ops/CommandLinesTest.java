package io.marginal.ops;

import java.util.stream.Stream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.config.Cli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Constructor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** Every main of the project reads its command line through picocli: {@code --help} works, an unknown option is refused. */
class CommandLinesTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "io.marginal.kafka.embedded.BrokerMain",
      "io.marginal.model.demo.DemoModelBuilder",
      "io.marginal.ops.bench.model.BatchingBenchmark",
      "io.marginal.ops.bench.model.DeviceBenchmark",
      "io.marginal.ops.bench.model.GenerationBenchmark",
      "io.marginal.streams.app.MarginalStreamsApp",
      "io.marginal.ops.eval.cm.CmEvaluation",
      "io.marginal.ops.bench.streams.FeedbackBenchmark",
      "io.marginal.trainer.TrainerMain",
      "io.marginal.ops.eval.unlearning.UnlearnCli",
      "io.marginal.ops.eval.unlearning.UnlearningExperiment",
      "io.marginal.inference.InferenceNode",
      "io.marginal.ops.LocalLauncher",
      "io.marginal.ops.StandaloneInferenceNode",
      "io.marginal.ops.report.EvaluationReport",
      "io.marginal.ops.bench.LoadBenchmark",
      "io.marginal.ops.bench.ForgettingSlaBenchmark",
      "io.marginal.ops.bench.SoakRun",
      "io.marginal.ops.deadletter.DeadLetterReplay"})
  void helpWorksAndUnknownOptionsAreRefused(String mainClass) throws Exception {
    String[] help = run(mainClass, "--help");
    assertEquals("0", help[0], help[2]);
    String simpleName = mainClass.substring(mainClass.lastIndexOf('.') + 1);
    assertTrue(help[1].startsWith("Usage: " + simpleName) && help[1].contains("-h, --help"), help[1]);

    // the required arguments, so that the unknown option is what is wrong
    String[] required = switch (simpleName) {
      case "BrokerMain" -> new String[] {"server.properties"};
      case "CmEvaluation" -> new String[] {"clinc150", "data.json"};
      case "UnlearnCli" -> new String[] {"--request", "request.json", "--out", "out"};
      default -> new String[0];
    };
    String[] bad = run(mainClass, Stream.concat(Stream.of(required), Stream.of("--no-such-option")).toArray(String[]::new));
    int expected = mainClass.endsWith("UnlearnCli") ? 64 : Cli.USAGE;
    assertEquals(String.valueOf(expected), bad[0], bad[2]);
    assertTrue(bad[2].contains("--no-such-option"), bad[2]);
  }

  /** Runs {@code mainClass}'s command (its nested {@code Main}) on {@code args}: status, stdout, stderr. */
  private static String[] run(String mainClass, String... args) throws Exception {
    Constructor<?> constructor = Class.forName(mainClass + "$Main").getDeclaredConstructor();
    constructor.setAccessible(true);
    CommandLine line = Cli.commandLine(constructor.newInstance());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    line.setOut(new PrintWriter(out));
    line.setErr(new PrintWriter(err));
    int status = line.execute(args);
    return new String[] {String.valueOf(status), out.toString(), err.toString()};
  }
}
