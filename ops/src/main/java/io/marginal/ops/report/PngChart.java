package io.marginal.ops.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Grouped bar charts and line charts drawn with Java2D into PNG files, for the evaluation
 * reports. No plotting library: a report needs axes, bars, lines, a legend, and nothing else.
 */
public final class PngChart {

  private static final Color[] PALETTE = {new Color(0x4C72B0), new Color(0xDD8452), new Color(0x55A868),
      new Color(0xC44E52), new Color(0x8172B3), new Color(0x937860)};
  private static final int WIDTH = 900;
  private static final int HEIGHT = 500;
  private static final int LEFT = 70;
  private static final int RIGHT = 30;
  private static final int TOP = 60;
  private static final int BOTTOM = 80;

  static {
    System.setProperty("java.awt.headless", "true");
  }

  private PngChart() {
  }

  /** Bars for each category, one bar per series side by side. */
  public static BufferedImage bars(String title, String yLabel, List<String> categories, List<Series> series) {
    requireShape(categories.size(), series);
    double max = niceMax(series);
    BufferedImage image = canvas();
    Graphics2D g = image.createGraphics();
    frame(g, title, yLabel, max);
    int plotWidth = WIDTH - LEFT - RIGHT;
    double groupWidth = (double) plotWidth / Math.max(1, categories.size());
    double barWidth = groupWidth * 0.8 / series.size();
    for (int c = 0; c < categories.size(); c++) {
      double groupStart = LEFT + c * groupWidth + groupWidth * 0.1;
      for (int s = 0; s < series.size(); s++) {
        double v = series.get(s).values().get(c);
        int h = (int) Math.round(v / max * plotHeight());
        g.setColor(PALETTE[s % PALETTE.length]);
        g.fillRect((int) (groupStart + s * barWidth), TOP + plotHeight() - h, (int) Math.max(1, barWidth - 2), h);
      }
      label(g, categories.get(c), (int) (LEFT + c * groupWidth + groupWidth / 2), TOP + plotHeight() + 18);
    }
    legend(g, series);
    g.dispose();
    return image;
  }

  /** One line per series over x positions labelled {@code xLabels}. */
  public static BufferedImage lines(String title, String yLabel, List<String> xLabels, List<Series> series) {
    requireShape(xLabels.size(), series);
    double max = niceMax(series);
    BufferedImage image = canvas();
    Graphics2D g = image.createGraphics();
    frame(g, title, yLabel, max);
    int plotWidth = WIDTH - LEFT - RIGHT;
    double step = xLabels.size() <= 1 ? 0 : (double) plotWidth / (xLabels.size() - 1);
    for (int i = 0; i < xLabels.size(); i++) {
      label(g, xLabels.get(i), (int) (LEFT + i * step), TOP + plotHeight() + 18);
    }
    g.setStroke(new BasicStroke(2.5f));
    for (int s = 0; s < series.size(); s++) {
      g.setColor(PALETTE[s % PALETTE.length]);
      List<Double> values = series.get(s).values();
      int prevX = -1;
      int prevY = -1;
      for (int i = 0; i < values.size(); i++) {
        int x = (int) (LEFT + i * step);
        int y = TOP + plotHeight() - (int) Math.round(values.get(i) / max * plotHeight());
        g.fillOval(x - 4, y - 4, 8, 8);
        if (prevX >= 0) {
          g.drawLine(prevX, prevY, x, y);
        }
        prevX = x;
        prevY = y;
      }
    }
    legend(g, series);
    g.dispose();
    return image;
  }

  public static void write(BufferedImage image, Path file) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      ImageIO.write(image, "png", file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write chart " + file, e);
    }
  }

  private static BufferedImage canvas() {
    BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, WIDTH, HEIGHT);
    g.dispose();
    return image;
  }

  private static int plotHeight() {
    return HEIGHT - TOP - BOTTOM;
  }

  private static void frame(Graphics2D g, String title, String yLabel, double max) {
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
    g.drawString(title, LEFT, 30);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    g.drawString(yLabel, 8, TOP - 12);
    int bottom = TOP + plotHeight();
    for (int i = 0; i <= 5; i++) {
      double v = max * i / 5;
      int y = bottom - (int) Math.round((double) plotHeight() * i / 5);
      g.setColor(new Color(0xE5E5E5));
      g.drawLine(LEFT, y, WIDTH - RIGHT, y);
      g.setColor(Color.DARK_GRAY);
      String text = v >= 100 ? String.format("%.0f", v) : String.format("%.2f", v);
      g.drawString(text, LEFT - 8 - g.getFontMetrics().stringWidth(text), y + 4);
    }
    g.setColor(Color.BLACK);
    g.drawLine(LEFT, TOP, LEFT, bottom);
    g.drawLine(LEFT, bottom, WIDTH - RIGHT, bottom);
  }

  private static void label(Graphics2D g, String text, int centerX, int y) {
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    FontMetrics fm = g.getFontMetrics();
    g.drawString(text, centerX - fm.stringWidth(text) / 2, y);
  }

  private static void legend(Graphics2D g, List<Series> series) {
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    int x = LEFT;
    int y = HEIGHT - 28;
    for (int s = 0; s < series.size(); s++) {
      g.setColor(PALETTE[s % PALETTE.length]);
      g.fillRect(x, y - 10, 12, 12);
      g.setColor(Color.BLACK);
      g.drawString(series.get(s).name(), x + 18, y);
      x += 30 + g.getFontMetrics().stringWidth(series.get(s).name());
    }
  }

  private static double niceMax(List<Series> series) {
    double max = series.stream().flatMap(s -> s.values().stream()).mapToDouble(Double::doubleValue).max().orElse(1);
    if (max <= 0) {
      return 1;
    }
    double magnitude = Math.pow(10, Math.floor(Math.log10(max)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (m * magnitude >= max) {
        return m * magnitude;
      }
    }
    return 10 * magnitude;
  }

  private static void requireShape(int positions, List<Series> series) {
    if (series.isEmpty()) {
      throw new IllegalArgumentException("a chart needs at least one series");
    }
    for (Series s : series) {
      if (s.values().size() != positions) {
        throw new IllegalArgumentException("series " + s.name() + " has " + s.values().size() + " values for " + positions + " positions");
      }
      if (s.values().stream().anyMatch(v -> v < 0 || v.isNaN() || v.isInfinite())) {
        throw new IllegalArgumentException("series " + s.name() + " has a negative or non-finite value: " + s.values());
      }
    }
  }
}
