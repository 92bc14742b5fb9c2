import { APPROVAL_STATUSES } from '../../domain/approval.js';
import { PASSWORD_MIN_LENGTH } from '../../domain/passwords.js';
import { ROLES } from '../../domain/roles.js';
import { SCOPES } from '../../domain/scopes.js';
import { multilineText, pageQuery, plainText, z } from './common.js';

const email = z.string().max(320).meta({ example: 'ada@example.org' });
const name = plainText(200).pipe(z.string().trim().min(1, { error: 'is required' }));

/** 12 characters at least; at most 1,000, so that hashing stays cheap to ask for. */
export const password = z
  .string()
  .min(PASSWORD_MIN_LENGTH, { error: `must be at least ${PASSWORD_MIN_LENGTH} characters` })
  .max(1000, { error: 'must be at most 1000 characters' })
  .meta({ format: 'password' });

const roles = z
  .array(z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }))
  .min(1, { error: 'name at least one role' })
  .max(ROLES.length * 2)
  .meta({ example: ['editor'] });

const actor = z
  .object({
    type: z.enum(['user', 'token', 'system']),
    id: z.number().int().nullable(),
    name: z.string(),
  })
  .meta({ id: 'Actor' });

export const signInBody = z
  .strictObject({
    email: z.string().max(320),
    // Any length is checked like a wrong password: the answer must not depend on it.
    password: z.string().max(1000),
    totp: z.string().max(32).optional().meta({ description: 'TOTP or recovery code' }),
  })
  .meta({ id: 'SignIn' });

export const userSchema = z
  .object({
    id: z.number().int(),
    email: z.string(),
    name: z.string(),
    roles: z.array(z.enum(ROLES)),
    status: z.enum(['active', 'disabled']),
    totp: z.boolean().meta({ description: 'two-factor sign-in is on' }),
    lastSignInAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'User' });

export const sessionSchema = z
  .object({
    user: userSchema.nullable(),
    actor,
    scopes: z.array(z.enum(SCOPES)),
    csrfToken: z.string().optional().meta({ description: 'send as X-CSRF-Token on writes' }),
    secondFactorRequired: z.boolean().optional(),
  })
  .meta({ id: 'Session' });

export const passwordChangeBody = z
  .strictObject({ currentPassword: z.string().max(1000), newPassword: password })
  .meta({ id: 'PasswordChange' });

export const totpConfirmBody = z
  .strictObject({ code: z.string().max(32) })
  .meta({ id: 'TotpConfirm' });

export const totpOffBody = z
  .strictObject({ password: z.string().max(1000) })
  .meta({ id: 'TotpOff' });

export const enrolmentSchema = z
  .object({ secret: z.string(), otpauthUri: z.string(), qrSvg: z.string() })
  .meta({ id: 'TotpEnrolment' });

export const userCreate = z
  .strictObject({ email, name, roles, password: password.optional() })
  .meta({ id: 'UserCreate' });

export const userPatch = z
  .strictObject({
    email: email.optional(),
    name: name.optional(),
    roles: roles.optional(),
    status: z.enum(['active', 'disabled']).optional(),
    password: password.optional(),
  })
  .meta({ id: 'UserPatch' });

export const userCreated = userSchema
  .extend({
    setPasswordUrl: z.string().optional().meta({
      description: 'one-time link (72 h), also mailed, when no password was given',
    }),
  })
  .meta({ id: 'UserCreated' });

export const auditQuery = pageQuery
  .extend({
    actor: z
      .string()
      .regex(/^(user|token|system)(:([1-9][0-9]{0,15}|bootstrap))?$/, {
        error: 'must be user:<id>, token:<id>, token:bootstrap or system',
      })
      .optional(),
    entity: z
      .string()
      .regex(/^[a-z-]{1,40}(:[A-Za-z0-9:._-]{1,100})?$/, {
        error: 'must be <type> or <type>:<id>, such as campaign:12',
      })
      .optional(),
  })
  .meta({ id: 'AuditQuery' });

export const auditEntrySchema = z
  .object({
    id: z.number().int(),
    at: z.string(),
    actor,
    action: z.string(),
    entity: z.object({ type: z.string(), id: z.string().nullable() }),
    detail: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });

export const approvalSchema = z
  .object({
    status: z.enum([...APPROVAL_STATUSES, 'not-required']),
    requestedBy: actor.nullable(),
    requestedAt: z.string().nullable(),
    decidedBy: actor.nullable(),
    decidedAt: z.string().nullable(),
    note: z.string().nullable(),
  })
  .meta({ id: 'Approval' });

export const approveBody = z
  .strictObject({ note: multilineText(2000).optional() })
  .meta({ id: 'Approve' });

export const rejectBody = z
  .strictObject({
    reason: multilineText(2000).pipe(z.string().trim().min(1, { error: 'say why' })),
  })
  .meta({ id: 'Reject' });
