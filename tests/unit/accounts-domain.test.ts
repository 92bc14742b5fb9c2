// The pure rules behind accounts, the audit log and the two-person rule.
import { describe, expect, it } from 'vitest';
import { issueAccountToken, verifyAccountToken } from '../../src/domain/account-links.js';
import {
  approvalFingerprint,
  isSelfApproval,
  shownApprovalStatus,
} from '../../src/domain/approval.js';
import { auditAction, auditDetail } from '../../src/domain/audit.js';
import {
  hashRecoveryCode,
  looksLikeRecoveryCode,
  newRecoveryCodes,
} from '../../src/domain/recovery-codes.js';
import { ROLE_SCOPES, scopesOf } from '../../src/domain/roles.js';
import { hasScope, TOKEN_SCOPES } from '../../src/domain/scopes.js';
import { retryAfterSeconds } from '../../src/domain/sign-in-throttle.js';

describe('roles', () => {
  it('are the named scope sets of the contract', () => {
    expect(ROLE_SCOPES).toEqual({
      viewer: ['read'],
      editor: ['read', 'subscribers:write', 'templates:write', 'campaigns:write'],
      sender: ['read', 'subscribers:write', 'templates:write', 'campaigns:write', 'campaigns:send'],
      approver: ['read', 'campaigns:approve'],
      ops: ['read', 'ops'],
      admin: ['admin'],
    });
  });

  it('combine as the union of their scopes, and unknown roles grant nothing', () => {
    expect(scopesOf(['approver', 'ops']).sort()).toEqual(['campaigns:approve', 'ops', 'read']);
    expect(scopesOf(['root', 'ADMIN'])).toEqual([]);
    expect(hasScope(scopesOf(['admin']), 'campaigns:approve')).toBe(true);
    expect(hasScope(scopesOf(['sender']), 'campaigns:approve')).toBe(false);
  });

  it('no token scope is campaigns:approve', () => {
    expect(TOKEN_SCOPES).not.toContain('campaigns:approve');
  });
});

describe('the approval fingerprint', () => {
  const base = {
    subject: 'Quarterly',
    content: 'Hello',
    contentType: 'markdown',
    templateId: 1,
    templateMjml: '<mjml></mjml>',
    listIds: [1, 2],
    fromName: 'Secretariat',
    fromEmail: 'news@example.org',
    replyTo: null,
    data: { a: 1, b: { c: 2 } },
  };

  it('changes with every field it covers', () => {
    const changed = {
      subject: 'Other',
      content: 'Bye',
      contentType: 'mjml',
      templateId: 2,
      templateMjml: '<mjml><mj-body></mj-body></mjml>',
      listIds: [2, 1],
      fromName: 'Someone',
      fromEmail: 'x@example.org',
      replyTo: 'r@example.org',
      data: { a: 2, b: { c: 2 } },
    };
    const original = approvalFingerprint(base);
    for (const [field, value] of Object.entries(changed)) {
      expect(approvalFingerprint({ ...base, [field]: value }), field).not.toBe(original);
    }
  });

  it('does not depend on the order of keys in data', () => {
    expect(approvalFingerprint({ ...base, data: { b: { c: 2 }, a: 1 } })).toBe(
      approvalFingerprint(base),
    );
  });

  it('self-approval: the requester or the last editor, by type and id', () => {
    const ada = { type: 'user' as const, id: 1, name: 'Ada' };
    const grace = { type: 'user' as const, id: 2, name: 'Grace' };
    const token1 = { type: 'token' as const, id: 1, name: 'ci' };
    expect(isSelfApproval(ada, ada, grace)).toBe(true);
    expect(isSelfApproval(ada, grace, ada)).toBe(true);
    expect(isSelfApproval(ada, grace, token1)).toBe(false);
    expect(isSelfApproval(ada, null, null)).toBe(false);
  });

  it('shows not-required only while nobody asked and the rule is off', () => {
    expect(shownApprovalStatus('none', false)).toBe('not-required');
    expect(shownApprovalStatus('none', true)).toBe('none');
    expect(shownApprovalStatus('pending', false)).toBe('pending');
  });
});

describe('the audit rules', () => {
  it('name the action and entity after the route', () => {
    expect(auditAction('POST', '/campaigns', {})).toEqual({
      action: 'campaign.create',
      entityType: 'campaign',
      entityId: null,
    });
    expect(auditAction('POST', '/campaigns/:id/send', { id: '4' })).toMatchObject({
      action: 'campaign.send',
      entityId: '4',
    });
    expect(auditAction('PUT', '/subscribers/:id/lists', { id: '9' }).action).toBe(
      'subscriber.lists.update',
    );
    expect(auditAction('DELETE', '/users/:id', { id: '2' }).action).toBe('user.delete');
    expect(
      auditAction('POST', '/queues/:name/jobs/:id/retry', { name: 'deliveries', id: '7' }),
    ).toEqual({
      action: 'queue.jobs.retry',
      entityType: 'queue',
      entityId: 'deliveries:7',
    });
  });

  it('keep field names, and values only of fields that cannot hold a secret', () => {
    const detail = auditDetail({
      email: 'ada@example.org',
      password: 'hunter2 hunter2',
      roles: ['admin'],
      status: 'disabled',
      content: 'x'.repeat(10),
      _csrf: 'abc',
    });
    expect(detail).toEqual({
      fields: ['email', 'password', 'roles', 'status', 'content'],
      roles: ['admin'],
      status: 'disabled',
    });
    expect(JSON.stringify(detail)).not.toContain('hunter2');
    expect(auditDetail(undefined)).toEqual({});
    expect(auditDetail(['a'])).toEqual({});
  });
});

describe('sign-in throttling', () => {
  const at = (minutesAgo: number, now: Date) => new Date(now.getTime() - minutesAgo * 60_000);

  it('waits until the oldest of the last 10 failures is 15 minutes old', () => {
    const now = new Date('2026-01-01T12:00:00Z');
    const nine = Array.from({ length: 9 }, (_, i) => at(9 - i, now));
    expect(retryAfterSeconds(nine, now)).toBe(0);
    const ten = [at(10, now), ...nine];
    expect(retryAfterSeconds(ten, now)).toBe(5 * 60);
    expect(retryAfterSeconds(ten, new Date(now.getTime() + 5 * 60_000))).toBe(0);
  });
});

describe('account links', () => {
  it('verify only with the key and purpose they were signed for', () => {
    const { token, hash } = issueAccountToken('key-one', 'set-password');
    expect(verifyAccountToken(['key-one'], 'set-password', token)?.equals(hash)).toBe(true);
    expect(verifyAccountToken(['key-two', 'key-one'], 'set-password', token)).toBeDefined();
    expect(verifyAccountToken(['key-two'], 'set-password', token)).toBeUndefined();
    expect(verifyAccountToken(['key-one'], 'setup', token)).toBeUndefined();
    const tampered = `${token.slice(0, 5)}${token[5] === 'A' ? 'B' : 'A'}${token.slice(6)}`;
    expect(verifyAccountToken(['key-one'], 'set-password', tampered)).toBeUndefined();
    expect(verifyAccountToken(['key-one'], 'set-password', 'short')).toBeUndefined();
  });
});

describe('recovery codes', () => {
  it('are ten distinct readable codes, hashed whatever their case and dash', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) {
      expect(code).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
      expect(looksLikeRecoveryCode(code)).toBe(true);
      expect(hashRecoveryCode(code.toUpperCase().replace('-', ''))).toEqual(hashRecoveryCode(code));
    }
    expect(looksLikeRecoveryCode('123456')).toBe(false);
  });
});
