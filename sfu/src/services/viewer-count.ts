const VIEWER_COUNT_EVERY_MS = 1000;

/** A room's `viewerCount`, told at most once a second however fast peers come and go. */
export class ViewerCount {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly tell: () => void,
    private readonly everyMs = VIEWER_COUNT_EVERY_MS,
  ) {}

  /** Someone came or went: the count goes out within everyMs. */
  schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.tell();
    }, this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
