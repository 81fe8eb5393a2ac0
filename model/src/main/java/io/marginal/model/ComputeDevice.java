package io.marginal.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import io.marginal.config.Settings;
import java.util.Locale;

/**
 * Which device the model, LoRA training and serving run on, from configuration:
 * {@code -Dmarginal.device} or env {@code MARGINAL_DEVICE}, one of {@code auto} (default: the first
 * GPU when PyTorch sees one, else the CPU), {@code cpu}, {@code cuda} / {@code cuda:N} (also
 * {@code gpu} / {@code gpu:N}). PyTorch only sees a GPU when the CUDA flavour of its native library
 * is on the classpath: build with {@code -Pcuda} (see model/README.md).
 */
public final class ComputeDevice {
  public static final String PROPERTY = "marginal.device";
  public static final String ENV = "MARGINAL_DEVICE";

  private ComputeDevice() {}

  /** The configured device, resolved against the GPUs PyTorch sees. */
  public static Device configured() {
    String spec = System.getProperty(PROPERTY, Settings.environment().getString(ENV, null));
    return resolve(spec, Engine.getInstance().getGpuCount());
  }

  /**
   * Resolves a device setting given the number of GPUs visible.
   *
   * @throws IllegalArgumentException for an unknown setting or a GPU that is not there
   */
  public static Device resolve(String spec, int gpuCount) {
    String s = spec == null ? "auto" : spec.strip().toLowerCase(Locale.ROOT);
    if (s.isEmpty() || s.equals("auto")) {
      return gpuCount > 0 ? Device.gpu(0) : Device.cpu();
    }
    if (s.equals("cpu")) {
      return Device.cpu();
    }
    String[] parts = s.split(":", 2);
    if (!parts[0].equals("cuda") && !parts[0].equals("gpu")) {
      throw new IllegalArgumentException(ENV + "=" + spec + " is not a device; use auto, cpu, cuda or cuda:N");
    }
    int index;
    try {
      index = parts.length == 2 ? Integer.parseInt(parts[1]) : 0;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(ENV + "=" + spec + ": the GPU index must be a number, e.g. cuda:0", e);
    }
    if (index < 0 || index >= gpuCount) {
      throw new IllegalArgumentException(ENV + "=" + spec + " but PyTorch sees " + gpuCount + " GPU(s)"
          + (gpuCount == 0 ? "; build with -Pcuda (CUDA natives) on a machine with an NVIDIA GPU and driver," : ";")
          + " or set " + ENV + "=auto or cpu");
    }
    return Device.gpu(index);
  }
}
