/**
 * A tiny progress reporter for the CLI: a redrawn bar on a terminal, plain lines otherwise (logs,
 * pipes, CI, tests). Always on stderr, so `--json` output on stdout stays clean.
 */
export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Progress {
  /** Step `done` of `total` finished (or started); `label` names the item. */
  update(done: number, label?: string): void;
  /** Finish the bar (a newline on a terminal). */
  done(message?: string): void;
}

export function createProgress(title: string, total: number, stream: ProgressStream = process.stderr, options: { quiet?: boolean } = {}): Progress {
  if (options.quiet) return { update() {}, done() {} };
  const tty = stream.isTTY === true;
  let drawn = false;
  const width = Math.max(10, Math.min(30, ((stream.columns ?? 80) - 40) >> 1));
  return {
    update(done, label = '') {
      if (tty) {
        const frac = total > 0 ? Math.min(1, done / total) : 1;
        const fill = Math.round(frac * width);
        const line = `${title} [${'█'.repeat(fill)}${'░'.repeat(width - fill)}] ${done}/${total} ${label}`;
        const max = (stream.columns ?? 80) - 1;
        stream.write(`\r\x1b[2K${line.length > max ? line.slice(0, max - 1) + '…' : line}`);
        drawn = true;
      } else {
        stream.write(`${title} ${done}/${total}${label ? ` ${label}` : ''}\n`);
      }
    },
    done(message) {
      if (tty && drawn) stream.write('\r\x1b[2K');
      if (message) stream.write(`${message}\n`);
    },
  };
}
