/**
 * Progress for the demo: a redrawn bar on a terminal; otherwise (logs, CI, pipes) only the
 * finished-step lines.
 * Writes to stderr so stdout carries only the table (or the JSON).
 */
export interface ProgressSink {
  /** Update the current task: `done` of `total`, with a short status. */
  update(label: string, done: number, total: number, status?: string): void;
  /** A finished line (ends any bar). */
  line(text: string): void;
}

export function silentProgress(): ProgressSink {
  return { update() {}, line() {} };
}

export function streamProgress(stream: NodeJS.WriteStream = process.stderr, tty = stream.isTTY === true): ProgressSink {
  let barOpen = false;
  const width = 24;
  return {
    update(label, done, total, status = '') {
      if (!tty) return; // plain mode: only the finished lines
      const f = total > 0 ? Math.min(1, done / total) : 1;
      const fill = Math.round(f * width);
      const text = `${label.padEnd(22)} [${'█'.repeat(fill)}${'░'.repeat(width - fill)}] ${String(Math.round(f * 100)).padStart(3)}% ${status}`;
      stream.write(`\r${text.slice(0, (stream.columns ?? 100) - 1)}\x1b[K`);
      barOpen = true;
    },
    line(text) {
      if (barOpen) { stream.write('\r\x1b[K'); barOpen = false; }
      stream.write(`${text}\n`);
    },
  };
}
