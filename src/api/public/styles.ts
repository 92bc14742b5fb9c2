// The public pages' stylesheet and icon, served from this process (the CSP allows styles and
// images from 'self' only: no inline styles, no CDN). Kept in code so every build carries them.
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';

const CSS = `
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: #eef1f4; color: #1f2933;
  font: 1rem/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 40rem; margin: 2rem auto; padding: 1.5rem 1.25rem 2rem; background: #fff;
  border-radius: 6px; box-shadow: 0 1px 3px rgba(0, 0, 0, .12); }
@media (max-width: 42rem) { main { margin: 0; border-radius: 0; box-shadow: none; min-height: 100vh; } }
h1 { font-size: 1.6rem; line-height: 1.3; margin: 0 0 1rem; color: #123a5e; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; color: #123a5e; }
p { margin: 0 0 1rem; }
a { color: #0b4f8a; }
a:focus-visible, button:focus-visible, input:focus-visible {
  outline: 3px solid #e09f1f; outline-offset: 2px;
}
label { display: block; font-weight: 600; margin-bottom: .25rem; }
.field { margin-bottom: 1.25rem; }
.hint { display: block; font-weight: 400; color: #4a5561; font-size: .9rem; }
input[type="email"], input[type="text"] {
  display: block; width: 100%; max-width: 28rem; padding: .55rem .65rem; font: inherit;
  color: #1f2933; background: #fff; border: 1px solid #6b7785; border-radius: 4px;
}
input[aria-invalid="true"] { border: 2px solid #b3261e; }
fieldset { border: 1px solid #c9d1d9; border-radius: 4px; padding: .75rem 1rem; margin: 0 0 1.25rem; }
legend { font-weight: 600; padding: 0 .25rem; }
.choice { display: flex; gap: .6rem; align-items: flex-start; margin: .5rem 0; }
.choice input { width: 1.2rem; height: 1.2rem; margin-top: .2rem; flex: none; }
.choice label { margin: 0; }
.choice .hint { margin-top: .1rem; }
button {
  font: inherit; font-weight: 600; padding: .6rem 1.3rem; border-radius: 4px; cursor: pointer;
  border: 2px solid #0b4f8a; background: #0b4f8a; color: #fff;
}
button:hover { background: #093f6e; border-color: #093f6e; }
button.secondary { background: #fff; color: #0b4f8a; }
button.secondary:hover { background: #e8f0f8; }
button.danger { background: #fff; color: #b3261e; border-color: #b3261e; }
button.danger:hover { background: #fbeceb; }
.error { color: #b3261e; font-weight: 600; }
.notice { border-left: 4px solid #1d7a46; background: #edf7f0; padding: .6rem .9rem; margin: 0 0 1.25rem; }
.alert { border-left: 4px solid #b3261e; background: #fbeceb; padding: .6rem .9rem; margin: 0 0 1.25rem; }
.actions { border-top: 1px solid #dde3e9; margin-top: 2rem; padding-top: .5rem; }
.muted { color: #4a5561; font-size: .9rem; }
.org { max-width: 40rem; margin: 1.5rem auto -1rem; padding: 0 1.25rem; font-weight: 600;
  color: #123a5e; letter-spacing: .02em; }
.org-footer { max-width: 40rem; margin: 0 auto 2rem; padding: 0 1.25rem; color: #4a5561;
  font-size: .85rem; }
@media (max-width: 42rem) { .org { margin: 1rem auto .5rem; } .org-footer { margin: 1rem auto; } }
.doc table { display: block; overflow-x: auto; border-collapse: collapse; font-size: .9rem; }
.doc th, .doc td { border: 1px solid #c9d1d9; padding: .3rem .5rem; text-align: left; vertical-align: top; }
.doc pre { overflow-x: auto; background: #f4f6f8; padding: .75rem; border-radius: 4px; }
.doc code { font-size: .9em; }
.archive { padding-left: 1.2rem; }
.archive li { margin: 0.4rem 0; }
.archive time { color: #5a6570; margin-left: 0.5rem; font-size: 0.9em; }
.archived-message { width: 100%; height: 80vh; border: 1px solid #c5ccd3; border-radius: 4px; background: #fff; }
.hp { position: absolute; left: -10000px; top: auto; width: 1px; height: 1px; overflow: hidden; }
@media (prefers-color-scheme: dark) {
  body { background: #111820; color: #e6eaee; }
  main { background: #1a232d; box-shadow: none; }
  h1, h2 { color: #9cc8f0; }
  a { color: #9cc8f0; }
  .hint, .muted, .org-footer { color: #b8c2cc; }
  .org { color: #9cc8f0; }
  input[type="email"], input[type="text"] { background: #111820; color: #e6eaee; border-color: #8a96a3; }
  fieldset { border-color: #3a4653; }
  .notice { background: #15301f; border-color: #4cbb7f; }
  .alert { background: #3a1715; border-color: #f28b82; }
  .error { color: #f28b82; }
  button.secondary, button.danger { background: transparent; }
  button.secondary { color: #9cc8f0; border-color: #9cc8f0; }
  button.danger { color: #f28b82; border-color: #f28b82; }
}
`;

const VERSION = createHash('sha256').update(CSS).digest('hex').slice(0, 12);

/** The stylesheet's URL; the version in it changes with the content, so it can be cached. */
export const STYLESHEET_PATH = `/assets/public-${VERSION}.css`;

export const serveStylesheet: RequestHandler = (_req, res) => {
  res
    .type('text/css')
    .set('Cache-Control', 'public, max-age=31536000, immutable')
    .set('X-Content-Type-Options', 'nosniff')
    .send(CSS);
};

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="6" fill="#123a5e"/>
<path d="M7 10h18v12H7z" fill="#fff"/>
<path d="M7 10l9 7 9-7" fill="none" stroke="#123a5e" stroke-width="2"/>
</svg>
`;

/** Linked from every page, so browsers do not ask for /favicon.ico. */
export const ICON_PATH = `/assets/icon-${createHash('sha256').update(ICON).digest('hex').slice(0, 12)}.svg`;

export const serveIcon: RequestHandler = (_req, res) => {
  res
    .type('image/svg+xml')
    .set('Cache-Control', 'public, max-age=31536000, immutable')
    .set('X-Content-Type-Options', 'nosniff')
    .send(ICON);
};
