package io.marginal.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import org.junit.jupiter.api.Test;

class ComputeDeviceTest {
  @Test
  void autoPicksTheFirstGpuWhenThereIsOne() {
    assertEquals(Device.cpu(), ComputeDevice.resolve(null, 0));
    assertEquals(Device.cpu(), ComputeDevice.resolve("auto", 0));
    assertEquals(Device.gpu(0), ComputeDevice.resolve("auto", 2));
    assertEquals(Device.cpu(), ComputeDevice.resolve(" CPU ", 2));
    assertEquals(Device.gpu(0), ComputeDevice.resolve("cuda", 1));
    assertEquals(Device.gpu(1), ComputeDevice.resolve("cuda:1", 2));
    assertEquals(Device.gpu(1), ComputeDevice.resolve("gpu:1", 2));
  }

  @Test
  void aMissingGpuOrUnknownDeviceIsNamed() {
    String msg = assertThrows(IllegalArgumentException.class, () -> ComputeDevice.resolve("cuda:0", 0)).getMessage();
    assertTrue(msg.contains("MARGINAL_DEVICE=cuda:0 but PyTorch sees 0 GPU(s)") && msg.contains("-Pcuda"), msg);
    msg = assertThrows(IllegalArgumentException.class, () -> ComputeDevice.resolve("tpu", 0)).getMessage();
    assertTrue(msg.contains("MARGINAL_DEVICE=tpu is not a device"), msg);
    msg = assertThrows(IllegalArgumentException.class, () -> ComputeDevice.resolve("cuda:x", 1)).getMessage();
    assertTrue(msg.contains("GPU index must be a number"), msg);
  }

  @Test
  void theConfiguredDeviceFollowsWhatPyTorchSees() {
    Device expected = Engine.getInstance().getGpuCount() > 0 ? Device.gpu(0) : Device.cpu();
    if (System.getenv(ComputeDevice.ENV) == null && System.getProperty(ComputeDevice.PROPERTY) == null) {
      assertEquals(expected, ComputeDevice.configured());
    }
  }
}
