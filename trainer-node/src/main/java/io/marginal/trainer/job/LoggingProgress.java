package io.marginal.trainer.job;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs phases and every {@code every}-th step with loss and ETA, tagged with the request id. */
public final class LoggingProgress implements ProgressListener {

  private static final Logger LOG = LoggerFactory.getLogger(LoggingProgress.class);

  private final String requestId;
  private final int every;

  public LoggingProgress(String requestId, int every) {
    this.requestId = requestId;
    this.every = Math.max(1, every);
  }

  @Override
  public void phase(String name) {
    LOG.info("request {}: {}", requestId, name);
  }

  @Override
  public void step(int step, int totalSteps, double loss, long elapsedMillis) {
    if (step % every == 0 || step == totalSteps) {
      long eta = step == 0 ? 0 : elapsedMillis * (totalSteps - step) / step;
      LOG.info("request {}: step {}/{} loss {} elapsed {} s eta {} s", requestId, step, totalSteps,
          String.format("%.4f", loss), elapsedMillis / 1000, eta / 1000);
    }
  }
}
