package io.marginal.trainer;

import picocli.CommandLine.Mixin;
import io.marginal.config.ServiceConfigOptions;
import io.marginal.schemas.serde.TrustedPackages;
import ai.djl.Device;
import io.marginal.metrics.OpsHttpServer;
import io.marginal.metrics.ServiceMetrics;
import io.marginal.config.Cli;
import io.marginal.config.Settings;
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
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/**
 * The trainer service: configuration from the environment, the base model loaded once (the demo
 * model unless {@code MARGINAL_MODEL_DIR} names a checkpoint), on the GPU when DJL finds one, and
 * one {@link TrainerNode} consuming unlearning requests until Ctrl-C.
 */
public final class TrainerMain {

  private static final Logger LOG = LoggerFactory.getLogger(TrainerMain.class);

  private TrainerMain() {
  }

  public static void main(String[] args) {
    TrustedPackages.allowMarginalClasses();
    Cli.run(new Main(), args);
  }

  /** The trainer's command line: configuration comes from the environment; the options only point at a file or check it. */
  @Command(name = "TrainerMain", description = {"Consumes unlearning requests (one member of the trainer group per GPU), trains",
      "masked-LoRA unlearning adapters, and publishes those that pass the gate."},
      footer = {"", "Configured by MARGINAL_* environment variables (trainer-node/README.md), e.g.",
          "  MARGINAL_BOOTSTRAP_SERVERS (localhost:9092)  MARGINAL_TRAINER_GROUP (marginal-trainer)  MARGINAL_NODE_ID",
          "  MARGINAL_ADAPTER_STORE (var/adapters)  MARGINAL_TRAINER_WORK_DIR (var/trainer-work)  MARGINAL_TRAINER_MAX_JOB (PT30M)",
          "  MARGINAL_MODEL_DIR (the demo model)  MARGINAL_BASE_MODEL (marginal-demo)  MARGINAL_DEVICE (auto)",
          "  MARGINAL_UNLEARN_* (objective, steps, lr, rank, mask, gate; see UnlearningSettings)"})
  static final class Main implements Callable<Integer> {
    @Mixin
    ServiceConfigOptions options;

    @Override
    public Integer call() throws InterruptedException {
      Settings all = options.settings(Settings.environment(), TrainerConfig.CONFIG_FILE_KEY);
      TrainerConfig config = TrainerConfig.from(all);
      UnlearningSettings settings = UnlearningSettings.from(all);
      if (options.printConfig()) {
        System.out.println(config);
        System.out.println(settings);
        return 0;
      }
      run(config, settings, all.find("MARGINAL_MODEL_DIR"));
      return 0;
    }
  }

  private static void run(TrainerConfig config, UnlearningSettings settings, Optional<String> modelDir) throws InterruptedException {
    LOG.info("starting {}", config);
    LOG.info("unlearning settings {}", settings);
    LanguageModel model = loadModel(modelDir);
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
