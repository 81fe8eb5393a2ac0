package io.marginal.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PrometheusTextTest {

  private static final String GOOD = """
      # HELP http_requests_total Requests.
      # TYPE http_requests_total counter
      http_requests_total{route="/a",status="200"} 3.0
      http_requests_total{route="/b",status="500"} 1
      # HELP latency_seconds Latency.
      # TYPE latency_seconds histogram
      latency_seconds_bucket{le="0.1"} 1
      latency_seconds_bucket{le="1.0"} 2
      latency_seconds_bucket{le="+Inf"} 3
      latency_seconds_count 3
      latency_seconds_sum 4.5
      # TYPE queue_depth gauge
      queue_depth{name="a \\"quoted\\" \\\\ name"} 2.5E-3 1700000000000
      # TYPE up gauge
      up NaN
      """;

  @Test
  void parsesCountersHistogramsGaugesAndEscapes() {
    PrometheusText text = PrometheusText.parse(GOOD);
    assertEquals(3.0, text.value("http_requests_total", "route", "/a"));
    assertEquals(4.0, text.sum("http_requests_total"));
    assertEquals("histogram", text.family("latency_seconds").type());
    assertEquals(2.0, text.value("latency_seconds_bucket", "le", "1.0"));
    assertEquals(0.0025, text.value("queue_depth", "name", "a \"quoted\" \\ name"));
    assertTrue(Double.isNaN(text.value("up")));
    assertTrue(text.find("http_requests_total", "route", "/c").isEmpty());
  }

  @Test
  void refusesWhatPrometheusOrOurConventionsRefuse() {
    refuses("# TYPE requests counter\nrequests 1\n", "not named *_total");
    refuses("x_total 1\n", "no TYPE");
    refuses("# TYPE x gauge\nx{a=\"1\" 1\n", "expected ','");
    refuses("# TYPE x gauge\nx{a=1} 1\n", "not quoted");
    refuses("# TYPE x gauge\nx{a=\"\\t\"} 1\n", "bad escape");
    refuses("# TYPE x gauge\nx one\n", "not a number");
    refuses("# TYPE x gauge\nx 1\nx 2\n", "duplicate sample");
    refuses("# TYPE x gauge\n# TYPE x gauge\nx 1\n", "second TYPE");
    refuses("# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx{a=\"b\"} 1\n", "not contiguous");
    refuses("# TYPE x gauge\nx 1", "newline");
    refuses("# HELP x Help.\n# TYPE x gauge\n# HELP x Again.\nx 1\n", "second HELP");
    refuses("# TYPE 1x gauge\n", "not a valid metric name");
    refuses("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 1\n", "not cumulative");
    refuses("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\nh_sum 1\n", "+Inf");
    refuses("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\nh_sum 1\n", "_count");
    refuses("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", "no _sum");
    refuses("# TYPE h histogram\nh_bucket 1\nh_count 1\nh_sum 1\n", "without an le");
    refuses("# TYPE h histogram\nh 1\n", "no TYPE");
  }

  private static void refuses(String text, String reason) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse(text), text);
    assertTrue(e.getMessage().contains(reason), "expected '" + reason + "' in: " + e.getMessage());
  }
}
