// Plain-text output helpers: aligned tables, durations, numbers, and a guard against terminal
// escape sequences arriving inside data (a CSV cell quoted in an import error, a list name).

/** Control characters (C0, DEL, C1) shown as \u{…} instead of being sent to the terminal. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export function clean(value: string | number | null | undefined): string {
  const text = value === null || value === undefined ? '' : String(value);
  return text.replace(CONTROL, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map(clean))];
  const widths = headers.map((_, i) =>
    Math.max(...cells.map((row) => String(row[i] ?? '').length)),
  );
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number'),
  );
  return (
    cells
      .map((row) =>
        row
          .map((cell, i) => {
            const text = String(cell ?? '');
            return numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
          })
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** Label/value lines with the values aligned. */
export function fields(pairs: [string, string | number][]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${label.padEnd(width)}  ${clean(value)}`).join('\n') + '\n';
}

/** 4s, 2m 05s, 1h 02m. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(s / 3600);
  return `${h}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Whole numbers from 10 up, one decimal below (12.5 msg/s, 850 rows/s). */
export function rate(perSecond: number): string {
  return perSecond >= 10 ? String(Math.round(perSecond)) : perSecond.toFixed(1);
}

export function percent(done: number, total: number): string {
  return total > 0 ? `${Math.floor((done / total) * 100)}%` : '0%';
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
