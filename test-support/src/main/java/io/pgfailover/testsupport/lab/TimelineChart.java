package io.pgfailover.testsupport.lab;

import java.util.List;
import java.util.Locale;

/**
 * The SVG chart of {@code bench/failover.sh} and {@code bench/peers.sh}: one row per drill, ms
 * since the fault on the x axis.
 */
final class TimelineChart {
  private static final int MIN_LEFT = 70;
  private static final int WIDTH = 900;
  private static final int ROW = 26;
  private static final int TOP = 60;

  private record Marker(String label, String color) {}

  private static final List<Marker> MARKERS =
      List.of(
          new Marker("failure first seen", "#888888"),
              new Marker("confirmed (detection)", "#e08000"),
          new Marker("promoted", "#1f5fbf"), new Marker("routes switched (EC2)", "#1a9641"),
          new Marker("router follows", "#7b3294"), new Marker("lease taken over (az)", "#d01c8b"));

  private TimelineChart() {}

  static String render(String title, List<FailoverBench.Drill> drills) {
    return render(title, drills.stream().map(d -> "drill " + d.n()).toList(), drills);
  }

  /** One row per drill, each named by its label (e.g. "patroni 2"). */
  static String render(String title, List<String> labels, List<FailoverBench.Drill> drills) {
    // the row labels sit left of the axis: room for the longest (about 6 px per character)
    int left =
        Math.max(MIN_LEFT, 20 + 6 * labels.stream().mapToInt(String::length).max().orElse(0));
    long max = 1000;
    for (FailoverBench.Drill d : drills) {
      max = Math.max(max, Math.max(d.client().gapEndMs(), d.routerSwitchedMs()));
    }
    long from = -500;
    long to = (max / 1000 + 2) * 1000; // room for the outage label
    int height = TOP + drills.size() * ROW + 40;
    StringBuilder s = new StringBuilder();
    s.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d'"
                + " font-family='sans-serif' font-size='11'>%n",
            left + WIDTH + 20,
            height));
    s.append(
        String.format(Locale.ROOT, "<text x='10' y='16' font-size='13'>%s</text>%n", esc(title)));
    int lx = 10;
    s.append(
        String.format(
            Locale.ROOT,
            "<rect x='%d' y='26' width='14' height='10' fill='#f4a3a3'/><text x='%d' y='35'>client"
                + " write outage</text>%n",
            lx,
            lx + 18));
    lx += 130;
    boolean takeovers = drills.stream().anyMatch(d -> d.takeoverMs() >= 0);
    for (Marker m : MARKERS.subList(0, takeovers ? MARKERS.size() : MARKERS.size() - 1)) {
      s.append(
          String.format(
              Locale.ROOT,
              "<circle cx='%d' cy='31' r='4' fill='%s'/><text x='%d' y='35'>%s</text>%n",
              lx + 5,
              m.color(),
              lx + 14,
              esc(m.label())));
      lx += 40 + m.label().length() * 6;
    }
    for (long t = 0; t <= to; t += 1000) {
      double x = x(left, t, from, to);
      s.append(
          String.format(
              Locale.ROOT,
              "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#dddddd'/><text x='%.1f' y='%d'"
                  + " text-anchor='middle'>%d</text>%n",
              x,
              TOP - 8,
              x,
              TOP + drills.size() * ROW,
              x,
              TOP + drills.size() * ROW + 14,
              t));
    }
    double zero = x(left, 0, from, to);
    s.append(
        String.format(
            Locale.ROOT,
            "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='black' stroke-width='2'/>%n",
            zero,
            TOP - 8,
            zero,
            TOP + drills.size() * ROW));
    s.append(
        String.format(Locale.ROOT, "<text x='%.1f' y='%d'>fault</text>%n", zero + 3, TOP - 10));
    for (int i = 0; i < drills.size(); i++) {
      FailoverBench.Drill d = drills.get(i);
      int y = TOP + i * ROW;
      s.append(
          String.format(
              Locale.ROOT, "<text x='10' y='%d'>%s</text>%n", y + 16, esc(labels.get(i))));
      if (d.client().gapEndMs() >= 0) {
        double x1 = x(left, d.client().gapStartMs(), from, to);
        double x2 = x(left, d.client().gapEndMs(), from, to);
        s.append(
            String.format(
                Locale.ROOT,
                "<rect x='%.1f' y='%d' width='%.1f' height='16' fill='#f4a3a3'><title>write outage"
                    + " %d ms</title></rect>%n",
                x1,
                y + 4,
                Math.max(1, x2 - x1),
                d.client().writeDowntimeMs()));
        s.append(
            String.format(
                Locale.ROOT,
                "<text x='%.1f' y='%d'>%d ms</text>%n",
                x2 + 4,
                y + 16,
                d.client().writeDowntimeMs()));
      }
      long[] at = {
        d.firstSeenMs(),
        d.detectedMs(),
        d.promotedMs(),
        d.routesSwitchedMs(),
        d.routerSwitchedMs(),
        d.takeoverMs()
      };
      for (int m = 0; m < at.length; m++) {
        if (at[m] >= 0) {
          s.append(
              String.format(
                  Locale.ROOT,
                  "<circle cx='%.1f' cy='%d' r='4' fill='%s'><title>%s %d ms</title></circle>%n",
                  x(left, at[m], from, to),
                  y + 12,
                  MARKERS.get(m).color(),
                  esc(MARKERS.get(m).label()),
                  at[m]));
        }
      }
    }
    s.append("</svg>\n");
    return s.toString();
  }

  private static double x(int left, long ms, long from, long to) {
    return left + (double) (ms - from) / (to - from) * WIDTH;
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
