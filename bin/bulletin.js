#!/usr/bin/env node
// The `bulletin` command. In a checkout it runs the TypeScript sources through tsx; in a built
// image (no sources, no tsx) it runs the compiled dist/.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);

let tsx;
if (existsSync(source)) {
  tsx = await import('tsx/esm/api').catch(() => undefined);
}
if (tsx) {
  tsx.register();
  await import(source.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write(
    'bulletin: neither the sources (with tsx) nor dist/ were found; run npm ci or npm run build\n',
  );
  process.exit(1);
}
