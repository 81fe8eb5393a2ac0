package io.marginal.ops;

import io.marginal.schemas.serde.TrustedPackages;
import io.marginal.config.Cli;
import io.marginal.inference.InferenceNode;
import io.marginal.inference.config.InferenceConfig;
import io.marginal.inference.generation.IntraOpThreads;
import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.model.demo.DemoModel;
import io.marginal.schemas.topics.TopicProvisioner;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * One inference node with a broker of its own (the topics provisioned), for trying the API on one
 * machine without the rest of the system: {@code mvn -q -Prun -DskipTests verify
 * -Drun.main=io.marginal.ops.StandaloneInferenceNode}. The node's own jar carries no broker; the
 * whole system on one machine is {@link LocalLauncher}.
 */
public final class StandaloneInferenceNode {

  private StandaloneInferenceNode() {
  }

  public static void main(String[] args) {
    TrustedPackages.allowMarginalClasses();
    Cli.run(new Main(), args);
  }

  @Command(name = "StandaloneInferenceNode", description = {"One inference node with an embedded Kafka broker of its own (topics provisioned),",
      "for trying the API on one machine."},
      footer = {"", "The node reads the same MARGINAL_* environment variables as io.marginal.inference.InferenceNode",
          "(inference-node/README.md); MARGINAL_BOOTSTRAP_SERVERS is replaced by the embedded broker."})
  static final class Main implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE",
        description = "Properties file with the same MARGINAL_* keys; the environment overrides it (as MARGINAL_INFERENCE_CONFIG).")
    Path configFile;

    @Override
    public Integer call() throws Exception {
      Map<String, String> env = new HashMap<>(System.getenv());
      if (configFile != null) {
        env.put(InferenceConfig.CONFIG_FILE_KEY, configFile.toString());
      }
      InferenceConfig fromEnvironment = InferenceConfig.from(env);
      DemoModel.defaultEngineSettings();
      IntraOpThreads.apply();
      EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.startTemporary();
      InferenceConfig config = fromEnvironment.with(Map.of("MARGINAL_BOOTSTRAP_SERVERS", broker.bootstrapServers()));
      TopicProvisioner.ensureTopics(broker.bootstrapServers(), config.clientSecurity(), config.topics());
      InferenceNode.runUntilStopped(InferenceNode.start(config), broker::close);
      return 0;
    }
  }
}
