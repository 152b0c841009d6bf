package io.pgfailover.controller.agent;

/** A server's address as a rejoin request names it: {@code host:port}, IPv6 in brackets. */
record HostPort(String host, int port) {

  /** Parses {@code 10.0.2.10:5432} or {@code [fd00::10]:5432}; throws for anything else. */
  static HostPort parse(String text) {
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException("\"" + text + "\" is not host:port");
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      throw new IllegalArgumentException(
          "\"" + text + "\": write an IPv6 address in brackets, e.g. [fd00::10]:5432");
    }
    if (!host.matches("[A-Za-z0-9.:-]+")) {
      throw new IllegalArgumentException("\"" + text + "\" has an invalid host");
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("\"" + text + "\" has no numeric port");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("\"" + text + "\": port must be 1 to 65535");
    }
    return new HostPort(host, port);
  }

  @Override
  public String toString() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}
