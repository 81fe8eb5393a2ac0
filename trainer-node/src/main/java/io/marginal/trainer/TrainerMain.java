package io.marginal.trainer;

import io.marginal.schemas.serde.TrustedPackages;
import ai.djl.Device;
import io.marginal.metrics.OpsHttpServer;
import io.marginal.metrics.ServiceMetrics;
import io.marginal.model.ComputeDevice;
import io.marginal.model.LanguageModel;
import io.marginal.model.demo.DemoModel;
import io.marginal.trainer.config.TrainerConfig;
import io.marginal.trainer.node.TrainerNode;
import io.marginal.trainer.store.DirectoryAdapterStore;
import io.marginal.trainer.unlearning.MaskedLoraUnlearningJob;
import io.marginal.trainer.unlearning.UnlearningSettings;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer service: configuration from the environment, the base model loaded once (the demo
 * model unless {@code MARGINAL_MODEL_DIR} names a checkpoint), on the GPU when DJL finds one, and
 * one {@link TrainerNode} consuming unlearning requests until Ctrl-C.
 */
public final class TrainerMain {

  private static final Logger LOG = LoggerFactory.getLogger(TrainerMain.class);

  private TrainerMain() {
  }

  public static void main(String[] args) throws InterruptedException {
    TrustedPackages.allowMarginalClasses();
    TrainerConfig config = TrainerConfig.fromEnvironment(System.getenv());
    UnlearningSettings settings = UnlearningSettings.fromEnvironment(System.getenv());
    LOG.info("starting {}", config);
    LOG.info("unlearning settings {}", settings);
    LanguageModel model = loadModel(Optional.ofNullable(System.getenv("MARGINAL_MODEL_DIR")));
    ServiceMetrics metrics = ServiceMetrics.create();
    TrainerNode node = new TrainerNode(config, new DirectoryAdapterStore(config.adapterStore()),
        new MaskedLoraUnlearningJob(model, config.baseModel(), settings), metrics.registry());
    OpsHttpServer ops = OpsHttpServer.start("trainer " + config.nodeId(), config.httpPort(), metrics, node::notReady);
    Thread loop = new Thread(node, "trainer-loop");
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("shutting down: finishing the current request, then closing");
      ops.close();
      node.close();
      metrics.close();
      model.close();
    }, "trainer-shutdown"));
    LauncherWatch.startIfRequested(System.getenv(), () -> {
      LOG.warn("the launcher is gone (stdin closed); stopping");
      System.exit(0);
    });
    loop.start();
    LOG.info("trainer pid {} ready; /metrics and /ready on port {}", ProcessHandle.current().pid(), ops.port());
    loop.join();
  }

  /** The checkpoint in {@code dir}, or the demo model (built on first use), on the configured device (MARGINAL_DEVICE, default auto: cuda:0 when present). */
  public static LanguageModel loadModel(Optional<String> dir) {
    DemoModel.defaultEngineSettings();
    Path path = dir.filter(d -> !d.isBlank()).map(Path::of).orElseGet(DemoModel::ensureBuilt);
    Device device = ComputeDevice.configured();
    LOG.info("loading base model from {} on {}", path, device);
    return LanguageModel.load(path, device);
  }
}
