// MJML's parser and validator are synchronous even though mjml2html is async in v5. Saving a
// template checks it through them directly (the same code mjml2html runs), so validation stays
// a plain function. They are CommonJS packages of the mjml release we pin (declared in
// package.json at the same version); `require` gives their exports without interop guessing.
import { createRequire } from 'node:module';
import 'mjml'; // registers the core components with mjml-core and mjml-validator

const require = createRequire(import.meta.url);

export interface MjmlNode {
  tagName: string;
  line?: number;
  attributes?: Record<string, unknown>;
  children?: MjmlNode[];
  content?: string;
}

interface MjmlValidationError {
  line: number;
  message: string;
  tagName: string;
}

interface ComponentClass {
  endingTag?: boolean;
  getTagName?: () => string;
}

const core = require('mjml-core') as {
  components: Record<string, ComponentClass | undefined>;
  initializeType: unknown;
};
const validator = require('mjml-validator') as {
  default: (node: MjmlNode, options: Record<string, unknown>) => MjmlValidationError[];
  dependencies: Record<string, unknown>;
};
const parseXml = require('mjml-parser-xml') as (
  xml: string,
  options: Record<string, unknown>,
) => MjmlNode;

/** Tags whose content MJML keeps as raw HTML (mj-text, mj-button, mj-raw, …). */
export const ENDING_TAGS: ReadonlySet<string> = new Set(
  Object.entries(core.components)
    .filter(([, component]) => component?.endingTag)
    .map(([name]) => name),
);

/** Parses (includes ignored) and validates like mjml2html's `validationLevel: 'strict'`. */
export function parseAndValidateMjml(
  source: string,
): { ok: true; errors: MjmlValidationError[] } | { ok: false; message: string } {
  let root: MjmlNode;
  try {
    root = parseXml(source, {
      keepComments: false,
      components: core.components,
      ignoreIncludes: true,
      filePath: '.',
      actualPath: '.',
    });
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
  if (root?.tagName !== 'mjml') {
    return { ok: false, message: 'the document must be enclosed in <mjml> … </mjml>' };
  }
  if (!root.children?.some((child) => child.tagName === 'mj-body')) {
    return { ok: false, message: 'the document has no <mj-body>' };
  }
  const errors = validator.default(root, {
    components: core.components,
    dependencies: validator.dependencies,
    initializeType: core.initializeType,
  });
  return { ok: true, errors };
}
