package io.marginal.ops.report;

import java.awt.image.BufferedImage;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A chart of a report section: the PNG file name it is written under (next to REPORT.md), its caption
 * (the image's alt text), and the image ({@link PngChart}).
 */
public record Chart(String fileName, String caption, BufferedImage image) {

  private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*\\.png");

  public Chart {
    Objects.requireNonNull(image, "image");
    if (fileName == null || !SAFE_NAME.matcher(fileName).matches()) {
      throw new IllegalArgumentException("chart file name '" + fileName
          + "' must be a plain file name of letters, digits, '.', '_' or '-' ending in .png (it is written next to REPORT.md)");
    }
  }
}
