// Pure rules about MJML templates with Liquid merge tags (docs/contract.md §3). MJML lays the message
// out once per campaign; Liquid runs afterwards, once per recipient, on the compiled HTML. So
// Liquid control flow must stay inside text and attribute values: an `{% if %}` around an
// MJML tag would be silently dropped by MJML and the section would always be shown.
// Nothing here compiles or renders: it scans the source and reports lines.

export interface SourceIssue {
  line: number;
  message: string;
  /** The MJML tag or `liquid` the issue is about: shown in brackets after the message. */
  tag: string;
}

/** Liquid tags that open a block closed by `end<name>`. */
const BLOCK_TAGS = new Set(['if', 'unless', 'for', 'case', 'capture', 'tablerow']);
/** Tags that would read other templates from somewhere: never allowed. */
export const REFUSED_TAGS = ['include', 'render', 'layout'] as const;
export const refusedTagMessage = (name: string) =>
  `{% ${name} %} is not allowed: a template cannot load other files`;

const LIQUID_TOKEN = /\{%-?\s*([\s\S]*?)\s*-?%\}|\{\{-?\s*([\s\S]*?)\s*-?\}\}/g;
const MJML_TAG = /<(\/?)(mjml|mj-[a-z0-9-]+)\b((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/gi;
const CONTENT_SLOT = /\{\{-?\s*content\s*-?\}\}/g;
/** A Liquid token that is exactly the content slot (built once, not per token). */
const CONTENT_SLOT_ONLY = new RegExp(`^${CONTENT_SLOT.source}$`);

/** 1-based line number of each character offset, by binary search over the line starts. */
export function lineIndex(source: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** [start, end) of each HTML comment: MJML drops them (keepComments: false). */
function commentRanges(source: string): [number, number][] {
  return [...source.matchAll(/<!--[\s\S]*?-->/g)].map((m) => [m.index, m.index + m[0].length]);
}

/** Replaces every character of the matches but line breaks with spaces: offsets stay put. */
function blank(source: string, pattern: RegExp): string {
  return source.replace(pattern, (m) => m.replace(/[^\n]/g, ' '));
}

interface LiquidToken {
  kind: 'tag' | 'output';
  name: string;
  start: number;
  end: number;
  text: string;
}

/** The Liquid tokens of a source, skipping the bodies of `raw` and `comment` blocks. */
export function liquidTokens(source: string): LiquidToken[] {
  const tokens: LiquidToken[] = [];
  const re = new RegExp(LIQUID_TOKEN.source, 'g');
  let m: RegExpExecArray | null;
  while ((m = re.exec(source))) {
    const isTag = m[1] !== undefined;
    const body = (isTag ? m[1] : m[2]) ?? '';
    const name = isTag ? (/^(#|[A-Za-z_][\w-]*)/.exec(body)?.[1] ?? '') : '';
    tokens.push({
      kind: isTag ? 'tag' : 'output',
      name,
      start: m.index,
      end: m.index + m[0].length,
      text: m[0],
    });
    if (isTag && (name === 'raw' || name === 'comment')) {
      const close = new RegExp(`\\{%-?\\s*end${name}\\s*-?%\\}`, 'g');
      close.lastIndex = re.lastIndex;
      const found = close.exec(source);
      re.lastIndex = found ? found.index : source.length;
    }
  }
  return tokens;
}

interface MjmlTag {
  name: string;
  kind: 'open' | 'close' | 'self';
  start: number;
  end: number;
}

/**
 * MJML tags as mjml's own parser sees them: comments and Liquid tokens ignored, and nothing
 * inside an ending tag (mj-text, mj-raw, mj-button …) counts until that tag closes.
 */
function mjmlTags(source: string, endingTags: ReadonlySet<string>): MjmlTag[] {
  const masked = blank(blank(source, /<!--[\s\S]*?-->/g), new RegExp(LIQUID_TOKEN.source, 'g'));
  const tags: MjmlTag[] = [];
  const re = new RegExp(MJML_TAG.source, 'gi');
  let inside: string | undefined;
  let m: RegExpExecArray | null;
  while ((m = re.exec(masked))) {
    const name = m[2]!.toLowerCase();
    const kind = m[1] ? 'close' : m[4] ? 'self' : 'open';
    if (inside && !(kind === 'close' && name === inside)) continue;
    if (inside) inside = undefined;
    else if (kind === 'open' && endingTags.has(name)) inside = name;
    tags.push({ name, kind, start: m.index, end: m.index + m[0].length });
  }
  return tags;
}

export interface StructureReport {
  errors: SourceIssue[];
  warnings: SourceIssue[];
}

/**
 * Checks what neither MJML nor Liquid checks on its own: MJML tags closed in order,
 * no mj-include, no include/render/layout, no Liquid block around an MJML tag, and no Liquid
 * between MJML tags (where MJML drops it).
 */
export function checkTemplateStructure(
  source: string,
  endingTags: ReadonlySet<string>,
): StructureReport {
  const lineOf = lineIndex(source);
  const tags = mjmlTags(source, endingTags);
  const report: StructureReport = { errors: [], warnings: [] };
  checkNesting(tags, endingTags, lineOf, report.errors);
  checkLiquidPlacement(source, tags, liquidTokens(source), endingTags, lineOf, report);
  return report;
}

/** MJML tags closed in order, and no mj-include. */
function checkNesting(
  tags: MjmlTag[],
  endingTags: ReadonlySet<string>,
  lineOf: (offset: number) => number,
  errors: SourceIssue[],
): void {
  // MJML nesting. htmlparser2 quietly closes what is left open, so MJML itself never says.
  const stack: MjmlTag[] = [];
  for (const tag of tags) {
    if (tag.name === 'mj-include') {
      errors.push({
        line: lineOf(tag.start),
        message: 'mj-include is not supported: a template must be self-contained',
        tag: tag.name,
      });
    }
    if (tag.kind === 'open') stack.push(tag);
    if (tag.kind !== 'close') continue;
    const at = stack.map((t) => t.name).lastIndexOf(tag.name);
    if (at < 0) {
      errors.push({
        line: lineOf(tag.start),
        message: `</${tag.name}> closes a tag that is not open`,
        tag: tag.name,
      });
      continue;
    }
    for (const open of stack.splice(at).slice(1)) {
      errors.push({
        line: lineOf(open.start),
        message: `<${open.name}> is not closed before </${tag.name}>`,
        tag: open.name,
      });
    }
  }
  // An ending tag left open swallows the rest of the document, closing tags included: only
  // it is worth reporting.
  const last = stack.at(-1);
  for (const open of last && endingTags.has(last.name) ? [last] : stack) {
    errors.push({
      line: lineOf(open.start),
      message: `<${open.name}> is not closed`,
      tag: open.name,
    });
  }
}

/**
 * Walks MJML tags and Liquid tokens in document order: no include/render/layout, no Liquid
 * block around an MJML tag, and a warning for Liquid between MJML tags (MJML drops it).
 */
function checkLiquidPlacement(
  source: string,
  tags: MjmlTag[],
  liquid: LiquidToken[],
  endingTags: ReadonlySet<string>,
  lineOf: (offset: number) => number,
  { errors, warnings }: StructureReport,
): void {
  // Walk MJML tags and Liquid tokens in document order.
  type Event = { at: number; tag?: MjmlTag; token?: LiquidToken };
  const events: Event[] = [
    ...tags.map((tag) => ({ at: tag.start, tag })),
    ...liquid.map((token) => ({ at: token.start, token })),
  ].sort((a, b) => a.at - b.at);
  const comments = commentRanges(source);
  const blocks: { name: string; line: number; reported: boolean }[] = [];
  const open: MjmlTag[] = [];
  let tagEnd = -1; // end of the MJML tag whose attributes we may be in
  for (const event of events) {
    if (event.tag) {
      const tag = event.tag;
      tagEnd = tag.end;
      const block = blocks.find((b) => !b.reported);
      if (block) {
        block.reported = true;
        errors.push({
          line: lineOf(tag.start),
          message:
            `<${tag.kind === 'close' ? '/' : ''}${tag.name}> is inside {% ${block.name} %} ` +
            `(line ${block.line}): Liquid control flow must stay inside text and attribute ` +
            'values, because MJML lays out every tag before Liquid runs',
          tag: tag.name,
        });
      }
      if (tag.kind === 'open') open.push(tag);
      else if (tag.kind === 'close') {
        const at = open.map((t) => t.name).lastIndexOf(tag.name);
        if (at >= 0) open.splice(at);
      }
      continue;
    }
    const token = event.token!;
    const line = lineOf(token.start);
    if (token.kind === 'tag') {
      if ((REFUSED_TAGS as readonly string[]).includes(token.name)) {
        errors.push({ line, message: refusedTagMessage(token.name), tag: 'liquid' });
      } else if (BLOCK_TAGS.has(token.name)) {
        blocks.push({ name: token.name, line, reported: false });
      } else if (token.name.startsWith('end') && BLOCK_TAGS.has(token.name.slice(3))) {
        const at = blocks.map((b) => b.name).lastIndexOf(token.name.slice(3));
        if (at >= 0) blocks.splice(at);
      }
    }
    const parent = open.at(-1);
    const inAttributes = token.start < tagEnd;
    const inText = parent !== undefined && endingTags.has(parent.name);
    const isSlot = CONTENT_SLOT_ONLY.test(token.text);
    const inComment = comments.some(([from, to]) => token.start >= from && token.start < to);
    if (parent && !inAttributes && !inText && !isSlot && !inComment) {
      warnings.push({
        line,
        message: `${token.text.slice(0, 60)} sits between MJML tags, where MJML drops it; put it inside <mj-text> or an attribute value`,
        tag: parent.name,
      });
    }
  }
}

export interface ContentSlot {
  start: number;
  end: number;
  /** The innermost MJML tag around the slot (undefined outside any). */
  parent: string | undefined;
}

/** Where the template says `{{ content }}`, and which MJML tag each slot sits in. */
export function contentSlots(source: string, endingTags: ReadonlySet<string>): ContentSlot[] {
  const tags = mjmlTags(source, endingTags);
  const slots: ContentSlot[] = [];
  const comments = commentRanges(source);
  for (const m of source.matchAll(new RegExp(CONTENT_SLOT.source, 'g'))) {
    if (comments.some(([from, to]) => m.index >= from && m.index < to)) continue;
    const open: string[] = [];
    for (const tag of tags) {
      if (tag.start >= m.index) break;
      if (tag.kind === 'open') open.push(tag.name);
      else if (tag.kind === 'close') {
        const at = open.lastIndexOf(tag.name);
        if (at >= 0) open.splice(at);
      }
    }
    slots.push({ start: m.index, end: m.index + m[0].length, parent: open.at(-1) });
  }
  return slots;
}

export type Segment = string | number | Segment[];

const LEAF_PROPERTIES = new Set(['size', 'first', 'last']);
/** The merge variables of docs/contract.md §3; `*` = any key below (free-form JSON). */
const KNOWN: Record<string, Record<string, '*' | 'leaf'> | 'leaf'> = {
  subscriber: { email: 'leaf', name: 'leaf', uuid: 'leaf', attributes: '*' },
  campaign: { name: 'leaf', subject: 'leaf', uuid: 'leaf', data: '*' },
  list: { name: 'leaf' },
  org: { name: 'leaf', address: 'leaf' },
  unsubscribe_url: 'leaf',
  preferences_url: 'leaf',
  archive_url: 'leaf',
  confirm_url: 'leaf',
};

/** Whether a variable path (as liquidjs' static analysis gives it) exists in MergeVars. */
export function isKnownMergeVariable(segments: readonly Segment[]): boolean {
  const [root, second, third] = segments;
  if (typeof root !== 'string' || !Object.hasOwn(KNOWN, root)) return false;
  const shape = KNOWN[root]!;
  const leafRest = (rest: readonly Segment[]) =>
    rest.length === 0 || (rest.length === 1 && LEAF_PROPERTIES.has(String(rest[0])));
  if (shape === 'leaf') return leafRest(segments.slice(1));
  if (second === undefined) return true;
  if (typeof second !== 'string' || !Object.hasOwn(shape, second)) return false;
  if (shape[second] === '*') return true;
  return third === undefined || leafRest(segments.slice(2));
}

/** `subscriber.attributes[key]` → "subscriber.attributes[key]" for reports. */
export function formatSegments(segments: readonly Segment[]): string {
  return segments
    .map((s, i) =>
      Array.isArray(s)
        ? `[${formatSegments(s)}]`
        : typeof s === 'number'
          ? `[${s}]`
          : i
            ? `.${s}`
            : s,
    )
    .join('');
}
