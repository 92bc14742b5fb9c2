// The two Liquid engines: one for the HTML part (every output HTML-escaped), one for the text
// part and the subject (nothing escaped: they are not HTML). Both are locked down the same way
// (docs/contract.md §3): no file system, no include/render/layout, own properties only, unknown
// filters refused when the template is parsed, and limits on parse size, render time and
// memory so a template cannot stall a worker.
import { Liquid, type FS, type Template } from 'liquidjs';
import { REFUSED_TAGS, refusedTagMessage } from '../domain/liquid-rules.js';

/** Characters of template source per parse (a 512 KB template plus its content fits). */
export const PARSE_LIMIT = 4_000_000;
/**
 * Milliseconds for one recipient's whole message (subject, HTML and text share the deadline).
 * A real newsletter renders in well under a millisecond; a runaway loop is stopped after this
 * long, so a render holds the event loop (/health, other jobs) for 50 ms at the very most.
 */
export const RENDER_LIMIT_MS = 50;
/** liquidjs' allocation units per render (ranges, joins, …). */
export const MEMORY_LIMIT = 10_000_000;

const refuse = (): never => {
  throw new Error('templates cannot read files');
};

/** A file system that has no files: even if a tag tried, nothing would be read. */
const noFileSystem: FS = {
  exists: () => Promise.resolve(false),
  existsSync: () => false,
  readFile: () => Promise.reject(new Error('templates cannot read files')),
  readFileSync: refuse,
  resolve: refuse,
  contains: () => Promise.resolve(false),
  containsSync: () => false,
  sep: '/',
};

function createEngine(escapeHtml: boolean): Liquid {
  const engine = new Liquid({
    ...(escapeHtml ? { outputEscape: 'escape' as const } : {}),
    fs: noFileSystem,
    templates: {},
    relativeReference: false,
    dynamicPartials: false,
    ownPropertyOnly: true,
    strictVariables: false,
    strictFilters: true,
    cache: false,
    parseLimit: PARSE_LIMIT,
    renderLimit: RENDER_LIMIT_MS,
    memoryLimit: MEMORY_LIMIT,
  });
  for (const name of REFUSED_TAGS) {
    engine.registerTag(name, {
      parse() {
        throw new Error(refusedTagMessage(name));
      },
      render() {
        return '';
      },
    });
  }
  return engine;
}

export const htmlLiquid = createEngine(true);
export const textLiquid = createEngine(false);

export interface LiquidProblem {
  line: number | undefined;
  message: string;
}

/**
 * Whether liquidjs stopped a render at its wall-clock limit (RENDER_LIMIT_MS). liquidjs says so
 * only in its message; this is the one place that reads it.
 */
export function isRenderTimeout(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('template render limit exceeded');
}

/** liquidjs errors end in ", line:3, col:7"; this splits that off. */
export function describeLiquidError(error: unknown): LiquidProblem {
  const text = error instanceof Error ? error.message : String(error);
  const match = /,? ?line:(\d+), col:\d+\s*$/.exec(text);
  return {
    line: match ? Number(match[1]) : undefined,
    message: (match ? text.slice(0, match.index) : text).trim(),
  };
}

/** Parses with the text engine (same syntax and tags as the HTML one), or returns the problem. */
export function tryParse(
  source: string,
): { ok: true; template: Template[] } | { ok: false; problem: LiquidProblem } {
  try {
    return { ok: true, template: textLiquid.parse(source) };
  } catch (error) {
    return { ok: false, problem: describeLiquidError(error) };
  }
}
