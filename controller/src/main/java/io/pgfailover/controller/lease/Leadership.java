package io.pgfailover.controller.lease;

import io.pgfailover.controller.config.LeaseConfig;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.port.LeaseStore;
import io.pgfailover.controller.port.LeaseStore.Lease;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which controller of the pair may act: the holder of the lease in the {@link LeaseStore}. The loop
 * calls {@link #tick} once per iteration (renew, or watch and take over) and {@link
 * #beforeMutating} before every action that changes PostgreSQL or AWS; while it runs, {@link
 * #watchInBackground} also reads the item every {@link LeaseConfig#watchInterval} as long as this
 * controller follows, so that it sees each renewal within a fraction of a second rather than up to
 * a loop later.
 *
 * <p>Why two controllers can never both act (times are each host's own monotonic clock, never
 * compared):
 *
 * <ol>
 *   <li>A leader counts its lease from the moment it <em>sent</em> its last successful renewal (or
 *       take), s. The write took effect after s.
 *   <li>It acts only while {@code now < s + duration − safetyMargin}, and before every mutating
 *       action it renews once more (a conditional write on its owner and token) and re-checks that
 *       bound.
 *   <li>A follower takes over only with a conditional write on the exact renewal id it read, after
 *       seeing that id unchanged for a full {@code duration} counted from when its read
 *       <em>returned</em> — which is after the write took effect, so after s. So it takes over at s
 *       + duration at the earliest: at least {@code safetyMargin} after the old leader stopped
 *       acting. Reading more often (the loop's tick and the background watch) only moves that first
 *       sighting closer to s, never before it: a failed read changes nothing, and an answer older
 *       than one already counted is dropped. The take is sent at first sighting + duration (the
 *       tick waits for that moment when it is near), not at the next loop after it.
 *   <li>If the leader renewed in between, the renewal id changed and the take fails its condition.
 *       If the follower took over first, the token grew, and the leader's renewal before its next
 *       action fails its condition: a leader frozen past its lease (GC pause, stopped VM) that
 *       thaws does not act.
 *   <li>Every write's outcome that is unknown (timeout, unreachable) counts as not renewed: the
 *       leader keeps only the window of its last <em>confirmed</em> renewal, so an unreachable
 *       store makes it stop acting.
 * </ol>
 *
 * The residual window is a pause between the last check and the request leaving the process,
 * shorter than {@code safetyMargin} by configuration; EC2 has no conditional write that could carry
 * the token.
 */
public final class Leadership {
  private static final Logger log = LoggerFactory.getLogger(Leadership.class);

  /**
   * LEADER acts; FOLLOWER watches; UNKNOWN cannot reach the store and does not act; SINGLE has no
   * lease.
   */
  public enum Role {
    SINGLE,
    LEADER,
    FOLLOWER,
    UNKNOWN
  }

  /** What {@code status} shows. */
  public record View(Role role, String me, Optional<String> holder, long token, String detail) {}

  /** The answer before a mutating action: granted with the fencing token, or refused with why. */
  public record Permit(boolean granted, long token, String reason) {}

  /**
   * Where this controller stands with the lease. Each state carries only its own facts (no nullable
   * fields); {@link #TRANSITIONS} lists the legal moves and any other is a bug.
   */
  enum State {
    /** No lease held and no holder being watched: at start, and after holding or watching ends. */
    SEEKING,
    /** Another controller holds the lease; counting how long its renewal id stays the same. */
    WATCHING,
    /** This controller holds the lease: it may act while its last confirmed window lasts. */
    HOLDING
  }

  static final Map<State, java.util.Set<State>> TRANSITIONS =
      Map.of(
          State.SEEKING, java.util.EnumSet.of(State.WATCHING, State.HOLDING),
          State.WATCHING, java.util.EnumSet.of(State.WATCHING, State.HOLDING, State.SEEKING),
          State.HOLDING, java.util.EnumSet.of(State.HOLDING, State.SEEKING));

  private sealed interface Standing permits Seeking, Watching, Held {
    State state();
  }

  private record Seeking() implements Standing {
    public State state() {
      return State.SEEKING;
    }
  }

  /** Since {@code firstSeenNanos} the item has carried {@code lease}'s renewal id and token. */
  private record Watching(Lease lease, long firstSeenNanos) implements Standing {
    public State state() {
      return State.WATCHING;
    }
  }

  /** Holding {@code token}; the last confirmed renewal (or take) was sent at {@code sentNanos}. */
  private record Held(long token, long sentNanos) implements Standing {
    public State state() {
      return State.HOLDING;
    }
  }

  private final Optional<LeaseConfig> config;
  private final LeaseStore store;
  private final String me;
  private final LongSupplier nanos;
  private final Pause pause;
  private final EventLog events;

  /**
   * Reads are numbered when they start; an answer is counted only if no read started later was
   * counted before it (the tick and the background watch read concurrently).
   */
  private long readsStarted;

  private long readCounted;

  // Written under this object's lock; volatile so that status and the leader check read it
  // without waiting for a store call in progress.
  private volatile Standing standing = new Seeking();

  /** Read without the lock by the event log (which may be called from inside this class's lock). */
  private volatile long publishedToken;

  private volatile boolean publishedLeader;
  private volatile Optional<String> holder = Optional.empty();
  private volatile long lastToken;
  private volatile String detail = "";
  private volatile boolean storeReachable = true;

  private Leadership(
      Optional<LeaseConfig> config,
      LeaseStore store,
      String me,
      LongSupplier nanos,
      Pause pause,
      EventLog events) {
    this.config = config;
    this.store = store;
    this.me = me;
    this.nanos = nanos;
    this.pause = pause;
    this.events = events;
  }

  /** Waits on the clock a {@link Leadership} counts with; tests move their own clock instead. */
  @FunctionalInterface
  public interface Pause {
    void nanos(long nanos) throws InterruptedException;
  }

  /** The background watch ({@link #watchInBackground}); closing it stops the reads. */
  public interface Watch extends AutoCloseable {
    @Override
    void close();
  }

  /** Single-controller mode: no lease, every action permitted, as before the pair existed. */
  public static Leadership single() {
    return new Leadership(Optional.empty(), null, "single", System::nanoTime, n -> {}, null);
  }

  /** On the host's monotonic clock: what the daemon uses. */
  public static Leadership of(LeaseConfig config, LeaseStore store, EventLog events) {
    return of(config, store, System::nanoTime, TimeUnit.NANOSECONDS::sleep, events);
  }

  /**
   * @param nanos a monotonic clock in nanoseconds (tests advance their own)
   * @param pause waits that many nanoseconds of {@code nanos} (tests advance their clock)
   */
  public static Leadership of(
      LeaseConfig config, LeaseStore store, LongSupplier nanos, Pause pause, EventLog events) {
    // A process id per start: a restarted controller is a new owner and waits like any follower.
    String me = config.controller() + "/" + UUID.randomUUID().toString().substring(0, 8);
    return new Leadership(Optional.of(config), store, me, nanos, pause, events);
  }

  public boolean paired() {
    return config.isPresent();
  }

  public String me() {
    return me;
  }

  /** {@link #tick(Duration)} without waiting for a takeover. */
  public void tick() {
    tick(Duration.ZERO);
  }

  /**
   * Once per loop: a leader renews when due; a follower reads the item and takes over when it may.
   * A takeover due within {@code mayWait} is waited for and made then, so that the loop acts on it
   * in this iteration rather than the next.
   */
  public synchronized void tick(Duration mayWait) {
    if (config.isEmpty()) {
      return;
    }
    LeaseConfig c = config.get();
    if (standing instanceof Held held) {
      long age = nanos.getAsLong() - held.sentNanos();
      if (age >= c.actingWindow().toNanos()) {
        lapsed(held, "no confirmed renewal for " + Duration.ofNanos(age).toMillis() + " ms");
      } else if (age >= c.renewInterval().toNanos()) {
        renewNow(held.token());
        return;
      } else {
        return;
      }
    }
    long ticket = ++readsStarted;
    Optional<Lease> item;
    try {
      item = store.read();
      storeReachable = true;
    } catch (LeaseStore.Unavailable e) {
      unreachable(e);
      return;
    }
    long seenAt =
        nanos.getAsLong(); // after the read returned: after the write it shows took effect
    readCounted = ticket;
    noted(item);
    if (item.isEmpty() || item.get().released()) {
      take(item, item.isEmpty() ? "no lease yet" : "released by " + item.get().owner());
    } else if (item.get().owner().equals(me)) {
      // Our own take whose answer was lost (or our lapsed lease nobody took): a confirmed renewal
      // proves we
      // hold it and starts a fresh window; until then we do not lead.
      renewNow(item.get().token());
    } else if (standing instanceof Watching watched && sameRenewal(watched, item.get())) {
      long due = watched.firstSeenNanos() + max(c.duration(), item.get().duration()).toNanos();
      if (due - seenAt <= mayWait.toNanos() && waitUntil(due)) {
        // The take's condition is the renewal id read: a renewal during the wait makes it fail.
        take(
            item,
            item.get().owner()
                + " did not renew for "
                + Duration.ofNanos(nanos.getAsLong() - watched.firstSeenNanos()).toMillis()
                + " ms");
      } else {
        detail = "following " + item.get().owner() + " (token " + item.get().token() + ")";
      }
    } else {
      moveTo(new Watching(item.get(), seenAt));
      detail = "following " + item.get().owner() + " (token " + item.get().token() + ")";
    }
  }

  /**
   * Between ticks, while following: one read of the item; a renewal id not seen before starts the
   * count from when this read returned. A failed read only marks the store unreachable (it extends
   * nothing); a free or released item is left to the next tick, and no read here takes the lease.
   */
  public void watch() {
    long ticket;
    synchronized (this) {
      if (config.isEmpty() || !(standing instanceof Watching)) {
        return;
      }
      ticket = ++readsStarted;
    }
    // Not under the lock: the tick, the status and an action's check do not wait for this read.
    Optional<Lease> item;
    try {
      item = store.read();
    } catch (LeaseStore.Unavailable e) {
      synchronized (this) {
        unreachable(e);
      }
      return;
    }
    long seenAt = nanos.getAsLong(); // after the read returned, as in tick
    synchronized (this) {
      storeReachable = true;
      if (ticket < readCounted) {
        return; // a read that started later was counted already: this answer may be older
      }
      readCounted = ticket;
      noted(item);
      if (standing instanceof Watching watched
          && item.isPresent()
          && !item.get().released()
          && !item.get().owner().equals(me)
          && !sameRenewal(watched, item.get())) {
        moveTo(new Watching(item.get(), seenAt));
        detail = "following " + item.get().owner() + " (token " + item.get().token() + ")";
      }
    }
  }

  /**
   * Runs {@link #watch} every {@link LeaseConfig#watchInterval} on a daemon thread until closed
   * (nothing in single mode).
   */
  public Watch watchInBackground() {
    if (config.isEmpty()) {
      return () -> {};
    }
    long every = config.get().watchInterval().toNanos();
    ScheduledExecutorService reader =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "lease-watch");
              t.setDaemon(true);
              return t;
            });
    reader.scheduleWithFixedDelay(
        () -> {
          try {
            watch();
          } catch (RuntimeException e) {
            // A bug, not an outage: a thrown task would silently end the schedule.
            log.error("event=lease_watch_bug error=\"{}\"", e.toString(), e);
          }
        },
        every,
        every,
        TimeUnit.NANOSECONDS);
    return reader::shutdownNow;
  }

  private static boolean sameRenewal(Watching watched, Lease item) {
    return watched.lease().renewal().equals(item.renewal())
        && watched.lease().token() == item.token();
  }

  /** The holder and the highest token a read showed. */
  private void noted(Optional<Lease> item) {
    item.ifPresent(
        l -> {
          lastToken = Math.max(lastToken, l.token());
          publishedToken = lastToken;
          holder = l.released() ? Optional.empty() : Optional.of(l.owner());
        });
  }

  /** Waits until {@code due} on this controller's clock; false if interrupted first. */
  private boolean waitUntil(long due) {
    try {
      for (long left = due - nanos.getAsLong(); left > 0; left = due - nanos.getAsLong()) {
        pause.nanos(left);
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** True while this controller holds a lease whose acting window has not run out. */
  public boolean leads() {
    return config.isEmpty()
        || (standing instanceof Held h
            && nanos.getAsLong() - h.sentNanos() < config.get().actingWindow().toNanos());
  }

  /**
   * Before every action that changes PostgreSQL or AWS: renew (a conditional write on owner and
   * token) and check the acting window again. {@code operatorForce}: an operator's {@code failover
   * --force} acts without the lease only when the store cannot be reached; a reachable store that
   * names another leader still wins.
   */
  public synchronized Permit beforeMutating(boolean operatorForce) {
    if (config.isEmpty()) {
      return new Permit(true, 0, "single controller");
    }
    if (held().isEmpty() && !operatorForce) {
      return new Permit(
          false,
          lastToken,
          "not the leader: " + (holder.map(h -> h + " holds the lease").orElse("no lease held")));
    }
    if (held().isEmpty()) {
      try {
        // An operator's request on a follower: take a free or released lease at once, never a
        // held one.
        tick();
      } catch (LeaseStore.Unavailable e) {
        unreachable(e);
      }
      if (held().isEmpty()) {
        return storeReachable
            ? new Permit(
                false,
                lastToken,
                "not the leader: "
                    + holder
                        .map(h -> h + " holds the lease; run it there")
                        .orElse("the lease could not be taken"))
            : forced();
      }
    }
    Held held = held().orElseThrow();
    long sent = nanos.getAsLong();
    try {
      Optional<Lease> renewed = store.renew(me, held.token(), config.get().duration());
      storeReachable = true;
      if (renewed.isEmpty()) {
        lost(held, "renewal refused: another controller took the lease");
        return new Permit(false, lastToken, "lease lost before acting");
      }
      moveTo(new Held(held.token(), sent));
    } catch (LeaseStore.Unavailable e) {
      unreachable(e);
      if (operatorForce) {
        return forced();
      }
      return new Permit(
          false, held.token(), "lease store unreachable: not acting on an unconfirmed lease");
    }
    if (!leads()) {
      return new Permit(false, held.token(), "renewal took too long: acting window over");
    }
    return new Permit(true, held.token(), "leader");
  }

  /** A clean shutdown: hand the lease back so the follower need not wait out the duration. */
  public synchronized void release() {
    if (config.isEmpty() || !(standing instanceof Held held)) {
      return;
    }
    try {
      if (store.release(me, held.token())) {
        event("lease_released", Map.of("token", held.token()));
      }
    } catch (LeaseStore.Unavailable e) {
      log.warn("event=lease_release_failed error=\"{}\"", e.getMessage());
    }
    moveTo(new Seeking());
  }

  /** The fencing token this controller holds, else the highest it has seen; 0 in single mode. */
  public long token() {
    return publishedToken;
  }

  /**
   * Whether this controller holds the lease (for annotating events; {@link #leads} also checks the
   * window).
   */
  public boolean holdsLease() {
    return config.isEmpty() || publishedLeader;
  }

  /** The one place the standing changes: an illegal move is a bug, not a state to live with. */
  private void moveTo(Standing next) {
    State from = standing.state();
    if (!TRANSITIONS.get(from).contains(next.state())) {
      throw new IllegalStateException("lease standing cannot go from " + from + " to " + next);
    }
    standing = next;
    if (next instanceof Held h) {
      lastToken = Math.max(lastToken, h.token());
    }
    publishedToken = next instanceof Held h ? h.token() : lastToken;
    publishedLeader = next instanceof Held;
  }

  /** The lease held now, if any. */
  private Optional<Held> held() {
    return standing instanceof Held h ? Optional.of(h) : Optional.empty();
  }

  /** This controller's standing, for tests and status. */
  State state() {
    return standing.state();
  }

  /** Never waits for the store: status stays available while a lease call is in progress. */
  public View view() {
    Role role =
        config.isEmpty()
            ? Role.SINGLE
            : leads() ? Role.LEADER : !storeReachable ? Role.UNKNOWN : Role.FOLLOWER;
    return new View(role, me, role == Role.LEADER ? Optional.of(me) : holder, token(), detail);
  }

  /** How long until a follower may take over (the loop wakes then), if it is waiting for that. */
  public synchronized Optional<Duration> takeoverDueIn() {
    // While the store does not answer a due takeover cannot happen: waking early would only spin
    // the loop.
    if (config.isEmpty() || !(standing instanceof Watching watched) || !storeReachable) {
      return Optional.empty();
    }
    long due =
        watched.firstSeenNanos()
            + max(config.get().duration(), watched.lease().duration()).toNanos();
    return Optional.of(Duration.ofNanos(Math.max(0, due - nanos.getAsLong())));
  }

  private void take(Optional<Lease> seen, String why) {
    long sent = nanos.getAsLong();
    try {
      Optional<Lease> taken = store.take(seen, me, config.get().duration());
      if (taken.isPresent()) {
        moveTo(new Held(taken.get().token(), sent));
        lastToken = taken.get().token();
        holder = Optional.of(me);
        detail = "leader since taking the lease: " + why;
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("token", taken.get().token());
        f.put("previous", seen.map(Lease::owner).orElse(""));
        f.put("why", why);
        event("lease_acquired", f);
      } else {
        if (standing instanceof Watching) {
          moveTo(new Seeking()); // someone else wrote: watch the new item from scratch
        }
        detail = "another controller took the lease first";
      }
    } catch (LeaseStore.Unavailable e) {
      unreachable(e);
    }
  }

  private void renewNow(long token) {
    long sent = nanos.getAsLong();
    try {
      Optional<Lease> renewed = store.renew(me, token, config.get().duration());
      storeReachable = true;
      if (renewed.isPresent()) {
        moveTo(new Held(token, sent));
        detail = "leader (token " + token + ")";
      } else if (standing instanceof Held held) {
        lost(held, "renewal refused: another controller took the lease");
      }
    } catch (LeaseStore.Unavailable e) {
      unreachable(e); // keep the last confirmed window; it runs out on its own
    }
  }

  private Permit forced() {
    event(
        "lease_overridden",
        Map.of("why", "operator --force while the lease store is unreachable", "token", lastToken));
    return new Permit(true, lastToken, "operator --force; lease store unreachable");
  }

  private void lapsed(Held held, String why) {
    event("lease_lapsed", Map.of("token", held.token(), "why", why));
    moveTo(new Seeking());
    detail = "lease lapsed: " + why;
  }

  private void lost(Held held, String why) {
    event("lease_lost", Map.of("token", held.token(), "why", why));
    moveTo(new Seeking());
    detail = why;
  }

  private void unreachable(LeaseStore.Unavailable e) {
    if (storeReachable) {
      log.warn("event=lease_store_unreachable error=\"{}\"", e.getMessage());
    }
    storeReachable = false;
    detail = "lease store unreachable: " + e.getMessage();
  }

  private void event(String name, Map<String, Object> fields) {
    Map<String, Object> f = new LinkedHashMap<>(fields);
    f.put("controller", me);
    log.info("event={} {}", name, f);
    if (events != null) {
      events.append(name, f);
    }
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }
}
