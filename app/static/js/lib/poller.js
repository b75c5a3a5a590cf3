// Polling that is kind to the server: one request at a time, faster only while something
// is changing, paused while the tab is hidden, backing off after errors.

export class Poller {
  /**
   * @param {() => Promise<boolean>} task resolves true while something is in progress
   * @param {{interval?: number, busyInterval?: number, maxInterval?: number}} options
   */
  constructor(task, { interval = 5000, busyInterval = 1000, maxInterval = 30000 } = {}) {
    this.task = task;
    this.interval = interval;
    this.busyInterval = busyInterval;
    this.maxInterval = maxInterval;
    this.timer = null;
    this.running = false;
    this.inFlight = false;
    this.again = false;
    this.failures = 0;
    this.onVisibility = () => {
      if (!document.hidden) this.now();
    };
  }

  /** Start polling now, or after `delay` ms when the page already holds fresh data. */
  start(delay = 0) {
    if (this.running) return this;
    this.running = true;
    document.addEventListener('visibilitychange', this.onVisibility);
    if (delay > 0) this.timer = window.setTimeout(() => this.tick(), delay);
    else this.now();
    return this;
  }

  stop() {
    this.running = false;
    window.clearTimeout(this.timer);
    document.removeEventListener('visibilitychange', this.onVisibility);
  }

  /** Poll right away (after an action), or as soon as the request in flight returns. */
  now() {
    if (!this.running) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    window.clearTimeout(this.timer);
    this.tick();
  }

  async tick() {
    if (!this.running || document.hidden) return; // visibilitychange resumes it
    this.inFlight = true;
    let busy = false;
    let failed = false;
    try {
      busy = await this.task();
    } catch {
      failed = true;
    } finally {
      this.inFlight = false;
    }
    if (!this.running) return;
    this.failures = failed ? this.failures + 1 : 0;
    if (this.again) {
      this.again = false;
      this.tick();
      return;
    }
    const delay = failed
      ? Math.min(this.maxInterval, this.interval * 2 ** (this.failures - 1))
      : busy
        ? this.busyInterval
        : this.interval;
    this.timer = window.setTimeout(() => this.tick(), delay);
  }
}
