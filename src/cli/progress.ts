// Progress for long operations, on stderr so stdout keeps only the final account. On a terminal:
// a cli-progress bar redrawn in place. Otherwise (piped, CI logs): plain lines, at most about one
// a second and only when something moved, plus a last one on completion.
import { SingleBar } from 'cli-progress';
import { EXIT } from './errors.js';
import { clean, duration, percent, rate } from './format.js';

export interface ProgressState {
  done: number;
  total: number;
  /** Units per second; left out while unknown. */
  rate?: number;
  etaSeconds?: number;
  /** Shown after the numbers: a status other than the normal one ("paused: …", "queued"). */
  note?: string;
}

export interface ProgressOptions {
  /** "import 3", "campaign 7". */
  label: string;
  /** "rows", "sent". */
  unit: string;
  /** "rows/s", "msg/s". */
  rateUnit: string;
  formatValue?: (n: number) => string;
  /** Defaults to "850 rows/s" from rateUnit. */
  formatRate?: (perSecond: number) => string;
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Defaults to whether the stream is a terminal. */
  tty?: boolean;
  minIntervalMs?: number;
  now?: () => number;
}

export interface Progress {
  update(state: ProgressState): void;
  /** Shows the last state and releases the terminal line. */
  finish(state?: ProgressState): void;
}

function speed(options: ProgressOptions, perSecond: number): string {
  return options.formatRate
    ? options.formatRate(perSecond)
    : `${rate(perSecond)} ${options.rateUnit}`;
}

/** Units per second over a sliding window, so a stall shows up within seconds. */
export class RateMeter {
  private samples: { at: number; value: number }[] = [];

  constructor(private readonly windowMs = 10_000) {}

  add(at: number, value: number): void {
    this.samples.push({ at, value });
    while (this.samples.length > 2 && at - this.samples[1]!.at >= this.windowMs)
      this.samples.shift();
  }

  /** undefined until two samples a moment apart exist. */
  perSecond(): number | undefined {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at - first.at < 200) return undefined;
    return Math.max(0, (last.value - first.value) / ((last.at - first.at) / 1000));
  }
}

export function progressLine(options: ProgressOptions, state: ProgressState): string {
  const value = options.formatValue ?? String;
  const parts = [
    `${value(state.done)}/${value(state.total)} ${options.unit} (${percent(state.done, state.total)})`,
  ];
  if (state.rate !== undefined && state.rate > 0) {
    parts.push(speed(options, state.rate));
  }
  if (state.etaSeconds !== undefined) parts.push(`ETA ${duration(state.etaSeconds)}`);
  const note = state.note ? ` [${clean(state.note)}]` : '';
  return `${options.label}: ${parts.join(', ')}${note}`;
}

export function createProgress(options: ProgressOptions): Progress {
  const tty = options.tty ?? options.stream.isTTY === true;
  return tty ? barProgress(options) : lineProgress(options);
}

function lineProgress(options: ProgressOptions): Progress {
  const now = options.now ?? Date.now;
  const minInterval = options.minIntervalMs ?? 1000;
  let lastAt = Number.NEGATIVE_INFINITY;
  let lastMoved: string | undefined;
  let lastNote: string | undefined;
  let lastLine: string | undefined;
  let latest: ProgressState | undefined;
  const write = (line: string) => {
    options.stream.write(`${line}\n`);
    lastLine = line;
  };
  return {
    update(state) {
      latest = state;
      // Rate and ETA wobble on every poll: only movement or a new note is worth a line, and a
      // new note (paused, resumed) is worth one at once.
      const moved = `${state.done}/${state.total}`;
      const note = state.note ?? '';
      if (moved === lastMoved && note === lastNote) return;
      if (note === lastNote && now() - lastAt < minInterval) return;
      lastAt = now();
      lastMoved = moved;
      lastNote = note;
      write(progressLine(options, state));
    },
    finish(state = latest) {
      if (!state) return;
      const line = progressLine(options, state);
      if (line !== lastLine) write(line);
    },
  };
}

function barProgress(options: ProgressOptions): Progress {
  const value = options.formatValue ?? String;
  const bar = new SingleBar({
    stream: options.stream,
    format: `${options.label} {bar} {pct} | {doneText}/{totalText} ${options.unit} | {speed} | ETA {etaText}{note}`,
    barsize: 30,
    hideCursor: true,
    clearOnComplete: false,
    emptyOnZero: true,
    barCompleteChar: '\u2588',
    barIncompleteChar: '\u2591',
  });
  const payload = (s: ProgressState) => ({
    pct: percent(s.done, s.total).padStart(4),
    doneText: value(s.done),
    totalText: value(s.total),
    speed: s.rate !== undefined && s.rate > 0 ? speed(options, s.rate) : '–',
    etaText: s.etaSeconds !== undefined ? duration(s.etaSeconds) : '–',
    note: s.note ? ` [${clean(s.note)}]` : '',
  });
  // Ctrl-C while the bar hides the cursor: give the terminal back before leaving.
  const onSigint = () => {
    bar.stop();
    process.exit(EXIT.interrupted);
  };
  let started = false;
  return {
    update(state) {
      if (!started) {
        started = true;
        process.once('SIGINT', onSigint);
        bar.start(state.total, state.done, payload(state));
        return;
      }
      bar.setTotal(state.total);
      bar.update(state.done, payload(state));
    },
    finish(state) {
      if (!started) return;
      if (state) {
        bar.setTotal(state.total);
        bar.update(state.done, payload(state));
      }
      bar.stop();
      process.removeListener('SIGINT', onSigint);
    },
  };
}
