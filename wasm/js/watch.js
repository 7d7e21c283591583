// Worker mode's death watch (proxy.js): a worker the browser closes or kills for memory sends no error event, it
// only goes quiet. The worker posts something at least every second (worker.js), so a silence of DEAD_AFTER_MS
// while a call or the boot is waiting on it means it is gone.

// Its heartbeat only stops while it runs one synchronous task: the longest legitimate one is the model build from
// bytes, 70-300 ms on our 2-core machines (docs/performance.md), and an analyzeBatch() of 64 texts, about 0.2 s.
// 10 s leaves 30x for slower devices and a loaded machine, and is still a bounded wait for the game. An
// analyzeBatch() runs its texts in one task (up to 1024 of them, 2.3 ms each at 128 tokens here): it gets
// QUIET_PER_TEXT_MS more per text, 10x what a text takes on our machines.
const DEAD_AFTER_MS = 10_000;
const QUIET_PER_TEXT_MS = 25;
const WATCH_EVERY_MS = 1000;

/** The extra silence a call may keep the worker in (analyzeBatch: per text). */
export function quietMsOf(method, args) {
  return method === 'analyzeBatch' && Array.isArray(args[0]) ? Math.min(args[0].length, 1024) * QUIET_PER_TEXT_MS : 0;
}

export class DeathWatch {
  /** `waiting()`: undefined when nothing waits on the worker, else the largest quietMs of what waits (0 for the
   * boot). `dead(message)`: called once it is judged gone. */
  constructor(waiting, dead) {
    this.heardAt = performance.now();
    let tickAt = this.heardAt;
    this.timer = setInterval(() => {
      const now = performance.now();
      // A late tick means this thread was busy (or throttled): the worker's messages may be queued behind it, so
      // judge on the next tick, after they have been read.
      const late = now - tickAt > 2 * WATCH_EVERY_MS;
      tickAt = now;
      const quietMs = waiting();
      if (!late && quietMs !== undefined && now - this.heardAt > DEAD_AFTER_MS + quietMs) {
        this.stop();
        dead(`no message from it for ${Math.round((now - this.heardAt) / 1000)} s with calls waiting: closed or killed by the browser`);
      }
    }, WATCH_EVERY_MS);
  }

  heard() {
    this.heardAt = performance.now();
  }

  stop() {
    clearInterval(this.timer);
  }
}
