// How deep a parsed JSON value nests, measured without recursion: a body nested 100,000 levels
// deep parses fine, but any recursive walk of it (JSON.stringify, a validator) overflows the
// stack. The API measures every body first and refuses one that nests too deep.

/** Request bodies nest a few levels (attributes, campaign data); 32 leaves room for any real use. */
export const MAX_BODY_DEPTH = 32;

/**
 * The path to the first value found deeper than `max` levels (the body itself is level 0), or
 * undefined when nothing is. The path stops at that depth, so it stays short.
 */
export function tooDeep(value: unknown, max: number): (string | number)[] | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: node, path } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (path.length >= max) return path;
    if (Array.isArray(node)) {
      node.forEach((child, i) => stack.push({ value: child, path: [...path, i] }));
    } else {
      for (const [key, child] of Object.entries(node))
        stack.push({ value: child, path: [...path, key] });
    }
  }
  return undefined;
}
