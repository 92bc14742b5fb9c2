// The console's one script (docs/console.md). Pages work as plain forms; this adds what must
// happen without a reload: the live campaign panel, the CSV import with progress, previews as
// you type, line numbers in the MJML editor, and times in the viewer's own zone.
const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

function localTimes(root = document) {
  for (const el of root.querySelectorAll('time[data-local-time]')) {
    if (el.dataset.done) continue;
    el.dataset.done = '1';
    const at = new Date(el.getAttribute('datetime'));
    const text = at.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    el.insertAdjacentText('afterend', ` · ${text} in your time zone (${viewerZone})`);
  }
}

/** Replaces the live panel with the server's latest rendering, keeping the keyboard focus. */
function livePanel() {
  let panel = document.querySelector('[data-live]');
  if (!panel) return;
  const tick = async () => {
    const url = panel.getAttribute('data-live');
    if (!url) return;
    try {
      const res = await fetch(url, { headers: { Accept: 'text/html' } });
      if (res.ok) {
        const text = await res.text();
        if (text !== panel.outerHTML) {
          const focused = document.activeElement?.closest('#live')
            ? document.activeElement.textContent
            : null;
          const next = document.createRange().createContextualFragment(text).firstElementChild;
          panel.replaceWith(next);
          panel = next;
          localTimes(panel);
          if (focused)
            [...panel.querySelectorAll('button')].find((b) => b.textContent === focused)?.focus();
        }
      }
    } catch {
      /* the next tick tries again */
    }
    if (panel.hasAttribute('data-live')) setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
}

function importForm() {
  const form = document.querySelector('form[data-import-form]');
  if (!form) return;
  const status = document.querySelector('[data-import-status]');
  const show = (html) => {
    status.replaceChildren(document.createRange().createContextualFragment(html));
  };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const file = form.querySelector('input[type="file"]').files[0];
    if (!file) return;
    const mode = form.querySelector('select[name="mode"]').value;
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1/lists/${form.dataset.list}/imports?mode=${encodeURIComponent(mode)}`);
    xhr.setRequestHeader('Content-Type', 'text/csv');
    xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) show(`<p>Uploading: ${Math.round((e.loaded / e.total) * 100)}%</p>`);
    };
    xhr.onload = () => {
      const body = JSON.parse(xhr.responseText || '{}');
      if (xhr.status !== 202) {
        show(`<p class="alert" role="alert">${esc(body.detail ?? 'The upload was refused')}</p>`);
        return;
      }
      follow(body.id);
    };
    xhr.onerror = () =>
      show('<p class="alert" role="alert">The upload failed: check the connection.</p>');
    show('<p>Uploading…</p>');
    xhr.send(file);
  });
  const follow = async (id) => {
    const res = await fetch(`/api/v1/imports/${id}`);
    const imp = await res.json();
    if (imp.status === 'queued' || imp.status === 'running') {
      const pct = imp.total ? Math.round((imp.processed / imp.total) * 100) : 0;
      show(`<p>Importing: ${imp.processed} rows read${imp.total ? ` of ${imp.total}` : ''}</p>
        <div role="progressbar" aria-label="Import" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${pct}"><progress max="100" value="${pct}" aria-hidden="true"></progress></div>`);
      setTimeout(() => follow(id), 500);
      return;
    }
    const errors = imp.errors ?? [];
    show(`<h3>Import ${esc(imp.status)}</h3>
      <p>${imp.total} rows: ${imp.inserted} added, ${imp.updated} updated, ${imp.skipped} skipped, ${errors.length} with errors.</p>
      ${
        errors.length
          ? `<table class="data"><caption>Lines with errors</caption><thead><tr><th scope="col">Line</th><th scope="col">Reason</th></tr></thead><tbody>${errors
              .map((e) => `<tr><td>Line ${esc(e.line)}</td><td>${esc(e.reason)}</td></tr>`)
              .join('')}</tbody></table>`
          : ''
      }`);
  };
}

/** Submits the form's Preview button (into its frame) now and after typing stops. */
function previews() {
  for (const button of document.querySelectorAll('[data-preview-button]')) {
    const form = button.form;
    let timer;
    const refresh = () => form.requestSubmit(button);
    form.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 600);
    });
    refresh();
  }
  for (const toggle of document.querySelectorAll('[data-width]')) {
    toggle.addEventListener('click', () => {
      const frame = toggle.closest('.preview').querySelector('iframe');
      frame.setAttribute('data-width', toggle.dataset.width);
      for (const b of toggle.parentElement.querySelectorAll('[data-width]'))
        b.setAttribute('aria-pressed', String(b === toggle));
    });
  }
}

/** Line numbers beside the MJML, and error links that select their line. */
function codeEditor() {
  const box = document.querySelector('[data-code]');
  if (!box) return;
  const area = box.querySelector('textarea');
  const gutter = box.querySelector('[data-gutter]');
  const number = () => {
    const lines = area.value.split('\n').length;
    gutter.textContent = Array.from({ length: lines }, (_, i) => i + 1).join('\n');
    gutter.scrollTop = area.scrollTop;
  };
  area.addEventListener('input', number);
  area.addEventListener('scroll', () => (gutter.scrollTop = area.scrollTop));
  number();
  for (const link of document.querySelectorAll('a[data-line]')) {
    link.addEventListener('click', (event) => {
      event.preventDefault();
      const n = Number(link.dataset.line);
      const lines = area.value.split('\n');
      const start = lines.slice(0, n - 1).join('\n').length + (n > 1 ? 1 : 0);
      area.focus();
      area.setSelectionRange(start, start + (lines[n - 1]?.length ?? 0));
    });
  }
}

/** What the chosen date and time mean in UTC and in the viewer's zone, as they are typed. */
function scheduleHint() {
  const form = document.querySelector('form[data-schedule-form]');
  if (!form) return;
  const zoneInput = form.querySelector('[name="timezone"]');
  if (zoneInput.value === 'UTC' && viewerZone) zoneInput.value = viewerZone;
  const hint = form.querySelector('[data-schedule-hint]');
  const update = () => {
    const date = form.querySelector('[name="date"]').value;
    const time = form.querySelector('[name="time"]').value;
    const zone = zoneInput.value;
    if (!date || !time || !zone) return (hint.textContent = '');
    try {
      const guess = new Date(`${date}T${time}:00Z`);
      const parts = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
      }).formatToParts(guess);
      const get = (t) => Number(parts.find((p) => p.type === t).value);
      const shown = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
      const at = new Date(guess.getTime() - (shown - guess.getTime()));
      hint.textContent = `That is ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${at.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })} in your time zone (${viewerZone}).`;
    } catch {
      hint.textContent = 'Unknown time zone: use a name such as Europe/Zurich.';
    }
  };
  form.addEventListener('input', update);
  update();
}

localTimes();
livePanel();
importForm();
previews();
codeEditor();
scheduleHint();
