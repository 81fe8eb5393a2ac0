package io.marginal.ops.eval.unlearning;

import io.marginal.trainer.job.ProgressListener;
import java.io.PrintStream;

/** A one-line progress bar on a terminal stream: phase, step/total, loss, elapsed and ETA. */
public final class ProgressBar implements ProgressListener {

  private static final int WIDTH = 30;
  private final PrintStream out;
  private boolean inBar;

  public ProgressBar(PrintStream out) {
    this.out = out;
  }

  @Override
  public synchronized void phase(String name) {
    endBar();
    out.println("» " + name);
    out.flush();
  }

  @Override
  public synchronized void step(int step, int totalSteps, double loss, long elapsedMillis) {
    int filled = totalSteps == 0 ? WIDTH : (int) ((long) WIDTH * step / totalSteps);
    long eta = step == 0 ? 0 : elapsedMillis * (totalSteps - step) / step;
    out.print(String.format("\r  [%s%s] %d/%d loss %.4f  %.1fs  eta %.1fs (at most; stops early once forgotten)", "#".repeat(filled),
        " ".repeat(WIDTH - filled), step, totalSteps, loss, elapsedMillis / 1000.0, eta / 1000.0));
    out.flush();
    inBar = true;
  }

  private void endBar() {
    if (inBar) {
      out.println();
      inBar = false;
    }
  }
}
