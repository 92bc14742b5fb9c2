// Checks a template when it is saved (and the merged template + content when a campaign is
// compiled): MJML errors with line numbers, Liquid syntax, and the structural rules of
// domain/liquid-rules.ts. Errors refuse the save; warnings are shown but do not.
import type { Template } from 'liquidjs';
import {
  checkTemplateStructure,
  formatSegments,
  isKnownMergeVariable,
  type SourceIssue,
} from '../domain/liquid-rules.js';
import type { FieldError } from '../domain/errors.js';
import { textLiquid, tryParse } from './liquid.js';
import { ENDING_TAGS, parseAndValidateMjml } from './mjml-sync.js';
import type { CompiledMessage } from './types.js';

/** Above this, Gmail cuts the message off behind a "[Message clipped]" link. */
export const GMAIL_CLIP_BYTES = 102 * 1024;

const LIQUID_IN_VALUE = /\{\{|\{%/;
const CONTENT_SLOT = /\{\{-?\s*content\s*-?\}\}/;
const LINK_VARIABLE = /\{\{-?\s*(unsubscribe_url|preferences_url)\b/;

export const formatIssue = (issue: SourceIssue) =>
  `line ${issue.line}: ${issue.message} (${issue.tag})`;

export interface SourceReport {
  errors: SourceIssue[];
  warnings: SourceIssue[];
}

/** The checks, with line numbers kept apart so a caller can map them (see compile.ts). */
export function checkSource(source: string): SourceReport {
  if (source.trim() === '') {
    return { errors: [{ line: 1, message: 'the template is empty', tag: 'mjml' }], warnings: [] };
  }
  const { errors, warnings } = checkTemplateStructure(source, ENDING_TAGS);

  const liquid = tryParse(source);
  if (!liquid.ok) {
    const issue = {
      line: liquid.problem.line ?? 1,
      message: liquid.problem.message,
      tag: 'liquid',
    };
    // The refused tags are already reported, with their line, by the structure check.
    if (!errors.some((e) => e.line === issue.line && e.message === issue.message)) {
      errors.push(issue);
    }
  }

  const mjml = parseAndValidateMjml(source);
  if (!mjml.ok) {
    errors.push({ line: 1, message: `not a valid MJML document: ${mjml.message}`, tag: 'mjml' });
  } else {
    for (const e of mjml.errors) {
      const issue = { line: e.line, message: e.message.trim(), tag: e.tagName };
      // A merge tag in a typed attribute (a colour, a width) can only be checked once it is
      // rendered for a recipient: a warning, not a refusal.
      if (LIQUID_IN_VALUE.test(e.message)) {
        warnings.push({
          ...issue,
          message: `${issue.message} (a merge tag here is only checked once rendered)`,
        });
      } else errors.push(issue);
    }
  }
  return { errors: dedupe(errors), warnings: dedupe(warnings) };
}

function dedupe(issues: SourceIssue[]): SourceIssue[] {
  const seen = new Set<string>();
  return issues
    .sort((a, b) => a.line - b.line)
    .filter((issue) => {
      const key = formatIssue(issue);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/**
 * For saving a template: MJML errors with line numbers, Liquid syntax, Liquid control flow
 * around MJML tags, include/render/layout and mj-include are errors.
 */
export function validateTemplateSource(mjml: string): {
  errors: FieldError[];
  warnings: string[];
} {
  const report = checkSource(mjml);
  const warnings = report.warnings.map(formatIssue);
  if (!CONTENT_SLOT.test(mjml)) {
    warnings.push('the template has no {{ content }}: campaign content will not appear in it');
  }
  if (!LINK_VARIABLE.test(mjml)) {
    warnings.push(
      'the template uses neither {{ unsubscribe_url }} nor {{ preferences_url }}: campaigns refuse to send without one',
    );
  }
  return {
    errors: report.errors.map((issue) => ({ path: 'mjml', message: formatIssue(issue) })),
    warnings,
  };
}

function variablesOf(sources: string[]) {
  const parsed: Template[][] = sources.map((source) => textLiquid.parse(source));
  return parsed.flatMap((template) => textLiquid.globalVariableSegmentsSync(template));
}

/** Variables the message uses that MergeVars does not provide (rendered empty): for preflight. */
export function unknownVariables(compiled: CompiledMessage): string[] {
  const unknown = new Set<string>();
  for (const segments of variablesOf([compiled.subject, compiled.html, compiled.text])) {
    if (!isKnownMergeVariable(segments)) unknown.add(formatSegments(segments));
  }
  return [...unknown].sort();
}

/** Whether the message links to the unsubscribe or the preference page somewhere. */
export function hasUnsubscribeLink(compiled: CompiledMessage): boolean {
  return variablesOf([compiled.html, compiled.text]).some(
    ([root]) => root === 'unsubscribe_url' || root === 'preferences_url',
  );
}
