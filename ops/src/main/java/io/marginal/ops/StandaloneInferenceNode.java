package io.marginal.ops;

import io.marginal.schemas.serde.TrustedPackages;
import io.marginal.inference.InferenceNode;
import io.marginal.inference.config.InferenceConfig;
import io.marginal.inference.generation.IntraOpThreads;
import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.model.demo.DemoModel;
import io.marginal.schemas.topics.TopicProvisioner;
import java.util.Map;

/**
 * One inference node with a broker of its own (the topics provisioned), for trying the API on one
 * machine without the rest of the system: {@code mvn -q -Prun -DskipTests verify
 * -Drun.main=io.marginal.ops.StandaloneInferenceNode}. The node's own jar carries no broker; the
 * whole system on one machine is {@link LocalLauncher}.
 */
public final class StandaloneInferenceNode {

  private StandaloneInferenceNode() {
  }

  public static void main(String[] args) throws Exception {
    TrustedPackages.allowMarginalClasses();
    DemoModel.defaultEngineSettings();
    IntraOpThreads.apply();
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.startTemporary();
    InferenceConfig config = InferenceConfig.fromEnvironment().with(Map.of("MARGINAL_BOOTSTRAP_SERVERS", broker.bootstrapServers()));
    TopicProvisioner.ensureTopics(broker.bootstrapServers(), config.clientSecurity(), config.topics());
    InferenceNode.runUntilStopped(InferenceNode.start(config), broker::close);
  }
}
