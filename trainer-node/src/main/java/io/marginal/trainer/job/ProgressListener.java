package io.marginal.trainer.job;

/** Progress of a long job: called after every training step and at each phase change. */
public interface ProgressListener {

  void phase(String name);

  void step(int step, int totalSteps, double loss, long elapsedMillis);

  ProgressListener NONE = new ProgressListener() {
    @Override
    public void phase(String name) {
    }

    @Override
    public void step(int step, int totalSteps, double loss, long elapsedMillis) {
    }
  };
}
