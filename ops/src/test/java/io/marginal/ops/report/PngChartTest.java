package io.marginal.ops.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PngChartTest {

  @TempDir
  Path tmp;

  @Test
  void tallerValueDrawsATallerBar() throws Exception {
    BufferedImage image = PngChart.bars("accuracy", "acc", List.of("base", "CM"),
        List.of(new Series("clinc150", List.of(0.25, 1.0))));
    Path file = tmp.resolve("bars.png");
    PngChart.write(image, file);
    BufferedImage read = ImageIO.read(file.toFile());
    assertEquals(900, read.getWidth());
    int white = 0xFFFFFF;
    // plot spans x 70..870; two groups of 400 px; bar of group 0 near x=120..430, group 1 near 520..830
    int firstBarTop = topOfColour(read, 270);
    int secondBarTop = topOfColour(read, 670);
    assertNotEquals(-1, firstBarTop);
    // value 1.0 reaches the top (y=60); 0.25 a quarter of 360 px above the axis at y=420
    assertEquals(60, secondBarTop, 2);
    assertEquals(420 - 90, firstBarTop, 2);
    assertNotEquals(white, read.getRGB(670, 300) & 0xFFFFFF);
  }

  @Test
  void refusesMismatchedSeries() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PngChart.lines("t", "y", List.of("1", "2"), List.of(new Series("s", List.of(1.0)))));
    assertEquals("series s has 1 values for 2 positions", e.getMessage());
  }

  private static int topOfColour(BufferedImage image, int x) {
    for (int y = 0; y < image.getHeight(); y++) {
      if ((image.getRGB(x, y) & 0xFFFFFF) == 0x4C72B0) {
        return y;
      }
    }
    return -1;
  }
}
