// The public archive (docs/engagement.md): the campaigns marked `archive` that went out, shown
// to a neutral reader. Their frozen message is rendered with no subscriber at all: no name, no
// address, no personal token; the unsubscribe and preferences links lead to /subscribe, the
// tracked links are the originals and there is no pixel.
import { atomFeed } from '../domain/atom.js';
import { archivePageUrl } from '../domain/campaign-input.js';
import { OPEN_PIXEL } from '../domain/tracked-links.js';
import type { Pool } from '../db/pool.js';
import {
  ArchiveRepository,
  type ArchivedCampaign,
} from '../db/repositories/engagement.repository.js';
import { Personalizer } from '../mail/render.js';
import type { MergeVars } from '../mail/types.js';

export const ARCHIVE_PAGE_SIZE = 20;
const NOBODY = '00000000-0000-0000-0000-000000000000';

export interface ArchiveEntry {
  slug: string;
  subject: string;
  sentAt: Date;
}

export class ArchiveService {
  private readonly repo: ArchiveRepository;

  constructor(
    pool: Pool,
    private readonly publicUrl: string,
    private readonly org: { name: string; address?: string | undefined },
  ) {
    this.repo = new ArchiveRepository(pool);
  }

  pageUrl(slug: string): string {
    return archivePageUrl(this.publicUrl, slug);
  }

  /** A page of the archive, newest first, and whether an older page exists. */
  async list(page: number): Promise<{ entries: ArchiveEntry[]; more: boolean }> {
    const rows = await this.repo.page((page - 1) * ARCHIVE_PAGE_SIZE, ARCHIVE_PAGE_SIZE + 1);
    return {
      entries: rows.slice(0, ARCHIVE_PAGE_SIZE).map((c) => this.entry(c)),
      more: rows.length > ARCHIVE_PAGE_SIZE,
    };
  }

  /** One archived newsletter as a neutral reader sees it. */
  async message(slug: string): Promise<(ArchiveEntry & { html: string }) | undefined> {
    const campaign = await this.repo.bySlug(slug);
    if (!campaign) return undefined;
    const rendered = this.render(campaign);
    return { ...this.entry(campaign, rendered.subject), html: rendered.html };
  }

  async feed(): Promise<string> {
    const rows = await this.repo.page(0, 50);
    return atomFeed({
      id: `${this.publicUrl}/archive`,
      title: `${this.org.name}: newsletter archive`,
      selfUrl: `${this.publicUrl}/archive/feed.xml`,
      htmlUrl: `${this.publicUrl}/archive`,
      author: this.org.name,
      entries: rows.map((c) => {
        const e = this.entry(c);
        return {
          id: `urn:uuid:${c.uuid}`,
          title: e.subject,
          url: this.pageUrl(e.slug),
          updated: c.finished_at ?? c.started_at,
          summary: `${e.subject}, sent ${e.sentAt.toISOString().slice(0, 10)}`,
        };
      }),
    });
  }

  private entry(c: ArchivedCampaign, subject?: string): ArchiveEntry {
    return {
      slug: c.archive_slug,
      subject: subject ?? this.render(c, false).subject,
      sentAt: c.started_at,
    };
  }

  private render(c: ArchivedCampaign, withHtml = true) {
    const snapshot = c.snapshot;
    const personalizer = new Personalizer({
      ...snapshot,
      html: withHtml ? snapshot.html.replace(OPEN_PIXEL, '') : '',
      // A list entry needs only the subject: neither body part is parsed for it.
      text: withHtml ? snapshot.text : '',
    });
    const subscribe = `${this.publicUrl}/subscribe`;
    const vars: MergeVars = {
      subscriber: { email: '', name: '', uuid: NOBODY, attributes: {} },
      campaign: { name: c.name, subject: snapshot.subject, uuid: c.uuid, data: c.data },
      list: { name: '' },
      org: { name: this.org.name, address: this.org.address ?? '' },
      unsubscribe_url: subscribe,
      preferences_url: subscribe,
      archive_url: this.pageUrl(c.archive_slug),
      tracked_links: snapshot.links ?? [],
      open_pixel_url: '',
    };
    return personalizer.render(vars);
  }
}
