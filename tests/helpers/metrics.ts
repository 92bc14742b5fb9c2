// Reads the Prometheus text exposition format into samples, enough for assertions: one sample
// per line, `name{label="value",…} value`. Comments (# HELP, # TYPE) are skipped.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(LABEL)) {
      labels[key!] = raw!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Samples of `name` whose labels include every given label. */
export function samples(all: Sample[], name: string, labels: Record<string, string> = {}) {
  return all.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The one value of `name` with these labels; undefined when there is no such series. */
export function value(
  all: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples(all, name, labels);
  if (found.length > 1) throw new Error(`${found.length} series of ${name} match`);
  return found[0]?.value;
}

/** The sum over every series of `name` with these labels (0 when there is none). */
export function sum(all: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples(all, name, labels).reduce((total, s) => total + s.value, 0);
}
