// The message-rendering API the campaign pipeline is written against:
//   compileMessage   once per campaign (MJML + content → HTML/text templates; the snapshot)
//   Personalizer     once per batch; render() once per recipient (Liquid only)
//   validateTemplateSource, unknownVariables, hasUnsubscribeLink   for saving and preflight
export type { CompiledMessage, MergeVars, RenderedMessage } from './types.js';
export { compileMessage, CONTENT_CLASS, type CompileInput } from './compile.js';
export { Personalizer, RenderTimeout, cleanSubject } from './personalize.js';
export { validateTemplateSource, unknownVariables, hasUnsubscribeLink } from './validate.js';
