// Summarises a V8 .cpuprofile: self time per function (and per file), the biggest first.
// node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};
const top = Number(topArg ?? 30);
const selfMs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
});
const total = [...selfMs.values()].reduce((a, b) => a + b, 0);
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const node of profile.nodes) {
  const ms = selfMs.get(node.id) ?? 0;
  const where = node.callFrame.url
    .replace(/^.*node_modules\//, '~/')
    .replace(/^file:\/\/.*?\/(src|workers|bench)\//, '$1/');
  const fn = `${node.callFrame.functionName || '(anonymous)'} ${where}:${node.callFrame.lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  const pkg =
    /^~\/(@[^/]+\/[^/]+|[^/]+)/.exec(where)?.[1] ?? (where || node.callFrame.functionName);
  byFile.set(pkg, (byFile.get(pkg) ?? 0) + ms);
}
const show = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title} (total ${total.toFixed(0)} ms)\n`);
  for (const [name, ms] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(
      `${((ms / total) * 100).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(7)} ms  ${name}\n`,
    );
  }
};
show('self time by package or file', byFile);
show('self time by function', byFunction);
