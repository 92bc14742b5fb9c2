import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { packageRoot } from '../../src/lib/paths.js';

const shippedDefaults = JSON.parse(
  readFileSync(path.join(packageRoot(), 'config', 'default.json'), 'utf8'),
) as Record<string, unknown>;

/** Runs loadConfig and returns the ConfigError it throws (fails the test if it does not). */
function configError(env: Record<string, string>, configDir?: string): ConfigError {
  try {
    loadConfig({ env, ...(configDir ? { configDir } : {}) });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

const variables = (error: ConfigError) => error.problems.map((p) => p.variable);

const dirs: string[] = [];
function configDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bulletin-config-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(
      path.join(dir, name),
      typeof content === 'string' ? content : JSON.stringify(content),
    );
  }
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('configuration defaults', () => {
  it('match the product contract when NODE_ENV=development and nothing is set', () => {
    const config = loadConfig({ env: { NODE_ENV: 'development' } });
    expect(config).toMatchObject({
      nodeEnv: 'development',
      port: 3000,
      publicUrl: 'http://localhost:3000',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/bulletin',
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: 'bulletin',
      smtpUrl: undefined,
      smtpPoolSize: 40,
      sendRate: 0,
      workerConcurrency: 10,
      maxAttempts: 5,
      maxSendErrors: 50,
      retryBaseDelayMs: 60_000,
      mailFrom: 'Bulletin <newsletter@localhost>',
      adminToken: undefined,
      secretKey: undefined,
      webhooks: {
        genericSecret: undefined,
        mailgunSigningKey: undefined,
        sendgridPublicKey: undefined,
        sesTopicArns: [],
        postmarkUser: undefined,
        postmarkPassword: undefined,
      },
      softBounceLimit: 3,
      softBounceWindowDays: 30,
      dkim: undefined,
      bounceDomain: undefined,
      unsubscribeMailto: undefined,
      bounceSmtpPort: undefined,
      metricsToken: undefined,
      cli: { url: 'http://localhost:3000', token: undefined },
      logLevel: 'info',
    });
  });

  it('takes NODE_ENV=development when NODE_ENV is unset', () => {
    expect(loadConfig({ env: {} }).nodeEnv).toBe('development');
  });

  it('is frozen, so no module can change a setting behind the others', () => {
    expect(Object.isFrozen(loadConfig({ env: {} }))).toBe(true);
  });
});

describe('configuration layers', () => {
  it('lets the environment override the JSON files', () => {
    const config = loadConfig({
      env: {
        PORT: '8080',
        PUBLIC_URL: 'https://news.example.org/',
        QUEUE_PREFIX: 'staging',
        SEND_RATE: '25',
        LOG_LEVEL: 'debug',
        SMTP_URL: 'smtps://user:pass@mail.example.org:465',
        SES_TOPIC_ARNS: 'arn:aws:sns:eu-west-1:1:a, arn:aws:sns:eu-west-1:1:b',
      },
    });
    expect(config).toMatchObject({
      port: 8080,
      publicUrl: 'https://news.example.org',
      queuePrefix: 'staging',
      sendRate: 25,
      logLevel: 'debug',
      smtpUrl: 'smtps://user:pass@mail.example.org:465',
    });
    expect(config.webhooks.sesTopicArns).toEqual([
      'arn:aws:sns:eu-west-1:1:a',
      'arn:aws:sns:eu-west-1:1:b',
    ]);
  });

  it('lets config/<NODE_ENV>.json override config/default.json, and the environment both', () => {
    const dir = configDir({
      'default.json': { ...shippedDefaults, MAX_ATTEMPTS: 5, SEND_RATE: 1 },
      'staging.json': { PORT: 4000 },
      'test.json': { PORT: 5000, LOG_LEVEL: 'warn', MAX_ATTEMPTS: 9 },
    });
    const fromFiles = loadConfig({ env: { NODE_ENV: 'test' }, configDir: dir });
    expect(fromFiles).toMatchObject({ port: 5000, logLevel: 'warn', maxAttempts: 9, sendRate: 1 });
    const withEnv = loadConfig({ env: { NODE_ENV: 'test', MAX_ATTEMPTS: '2' }, configDir: dir });
    expect(withEnv).toMatchObject({ port: 5000, maxAttempts: 2 });
    // The development layer does not exist in this folder: default.json alone applies.
    expect(loadConfig({ env: {}, configDir: dir })).toMatchObject({ port: 3000, maxAttempts: 5 });
  });

  it('refuses a setting in config/*.json that it does not know, naming it and the file', () => {
    const dir = configDir({ 'default.json': { ...shippedDefaults, PROT: 4000 } });
    const error = configError({}, dir);
    expect(variables(error)).toEqual(['PROT']);
    expect(error.message).toContain('config/default.json');
  });

  it('treats an empty variable as unset rather than as zero', () => {
    const config = loadConfig({ env: { PORT: '', SEND_RATE: '', SMTP_URL: '', ADMIN_TOKEN: '' } });
    expect(config).toMatchObject({ port: 3000, sendRate: 0, smtpUrl: undefined });
    expect(config.adminToken).toBeUndefined();
  });

  it('refuses a blank number rather than reading it as zero', () => {
    expect(variables(configError({ PORT: '   ' }))).toEqual(['PORT']);
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ env: { HOME: '/root', PROT: 'abc' } }).port).toBe(3000);
  });
});

describe('configuration errors', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'not a url'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['PUBLIC_URL', 'ftp://example.org'],
    ['QUEUE_PREFIX', 'has space'],
    ['SMTP_URL', 'http://mail.example.org'],
    ['SMTP_POOL_SIZE', '0'],
    ['SEND_RATE', '-5'],
    ['WORKER_CONCURRENCY', '0'],
    ['MAX_ATTEMPTS', 'many'],
    ['RETRY_BASE_DELAY_MS', '1.5'],
    ['LOG_LEVEL', 'loud'],
    ['SECRET_KEY', 'short'],
    ['ADMIN_TOKEN', 'tiny'],
    ['BOUNCE_SMTP_PORT', '99999'],
    ['NODE_ENV', 'staging'],
  ])('a bad %s (%j) stops start-up naming that variable', (variable, value) => {
    const error = configError({ [variable]: value });
    expect(variables(error)).toEqual([variable]);
    expect(error.message).toContain(`${variable}:`);
  });

  it('names every bad variable at once', () => {
    const error = configError({ PORT: 'abc', LOG_LEVEL: 'loud', SMTP_POOL_SIZE: '0' });
    expect(variables(error).sort()).toEqual(['LOG_LEVEL', 'PORT', 'SMTP_POOL_SIZE']);
  });

  it('never echoes a secret it refuses', () => {
    const error = configError({ SECRET_KEY: 'hunter2-short' });
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses NODE_ENV=production without SMTP_URL, naming SMTP_URL', () => {
    const error = configError({ NODE_ENV: 'production' });
    expect(variables(error)).toEqual(['SMTP_URL']);
    const ok = loadConfig({ env: { NODE_ENV: 'production', SMTP_URL: 'smtp://relay:25' } });
    expect(ok.smtpUrl).toBe('smtp://relay:25');
  });

  it('wants the DKIM variables together, naming the missing ones', () => {
    const dkim = {
      DKIM_DOMAIN: 'example.org',
      DKIM_SELECTOR: 's1',
      DKIM_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----',
    };
    expect(loadConfig({ env: dkim }).dkim).toEqual({
      domain: 'example.org',
      selector: 's1',
      privateKey: dkim.DKIM_PRIVATE_KEY,
    });
    expect(variables(configError({ DKIM_DOMAIN: 'example.org' })).sort()).toEqual([
      'DKIM_PRIVATE_KEY',
      'DKIM_SELECTOR',
    ]);
    expect(variables(configError({ DKIM_SELECTOR: 's1', DKIM_PRIVATE_KEY: 'k' }))).toEqual([
      'DKIM_DOMAIN',
    ]);
  });

  it('wants the Postmark webhook user and password together', () => {
    expect(variables(configError({ POSTMARK_WEBHOOK_USER: 'pm' }))).toEqual([
      'POSTMARK_WEBHOOK_PASSWORD',
    ]);
    expect(variables(configError({ POSTMARK_WEBHOOK_PASSWORD: 'pw' }))).toEqual([
      'POSTMARK_WEBHOOK_USER',
    ]);
  });

  it('reports a bad value from a JSON file under its variable name', () => {
    const dir = configDir({ 'default.json': { ...shippedDefaults, PORT: 'abc' } });
    expect(variables(configError({}, dir))).toEqual(['PORT']);
  });

  it('reports a JSON file that does not parse as a configuration error naming the file', () => {
    const dir = configDir({ 'default.json': shippedDefaults, 'test.json': '{ "PORT": 30' });
    const error = configError({ NODE_ENV: 'test' }, dir);
    expect(variables(error)).toEqual(['test.json']);
  });

  it('reports a JSON file that holds no object', () => {
    const dir = configDir({ 'default.json': '[1, 2]' });
    expect(variables(configError({}, dir))).toEqual(['default.json']);
  });
});

describe('HOST and TRUST_PROXY', () => {
  const prodEnv = { NODE_ENV: 'production', SMTP_URL: 'smtp://relay.example.org:587' };

  it('listens on loopback in development and on every interface in production', () => {
    expect(loadConfig({ env: {} }).host).toBe('127.0.0.1');
    expect(loadConfig({ env: prodEnv }).host).toBe('0.0.0.0');
    expect(loadConfig({ env: { ...prodEnv, HOST: '10.0.0.5' } }).host).toBe('10.0.0.5');
    expect(loadConfig({ env: { HOST: '::' } }).host).toBe('::');
  });

  it('trusts no proxy unless TRUST_PROXY names them', () => {
    expect(loadConfig({ env: {} }).trustProxy).toBe(false);
    expect(loadConfig({ env: prodEnv }).trustProxy).toBe(false);
    expect(loadConfig({ env: { TRUST_PROXY: 'loopback, 10.0.0.0/8, 192.0.2.7' } }).trustProxy).toBe(
      'loopback, 10.0.0.0/8, 192.0.2.7',
    );
  });

  it.each(['true', '*', '10.0.0.0/33', 'proxy.example.org', '1', 'loopback,,x'])(
    'refuses TRUST_PROXY=%s by name',
    (value) => {
      expect(variables(configError({ TRUST_PROXY: value }))).toEqual(['TRUST_PROXY']);
    },
  );

  it('refuses a HOST that is neither an address nor a host name', () => {
    expect(variables(configError({ HOST: 'http://0.0.0.0' }))).toEqual(['HOST']);
  });
});

describe('ORG_NAME and ORG_ADDRESS', () => {
  it('name the sender: Bulletin by default, no address', () => {
    expect(loadConfig({ env: {} }).org).toEqual({ name: 'Bulletin', address: undefined });
    const org = loadConfig({
      env: { ORG_NAME: 'The Secretariat', ORG_ADDRESS: '1 Main St, Geneva' },
    }).org;
    expect(org).toEqual({ name: 'The Secretariat', address: '1 Main St, Geneva' });
  });

  it('refuse line breaks, which would reach headers and pages', () => {
    expect(variables(configError({ ORG_NAME: 'Evil\r\nBcc: x@y.z' }))).toEqual(['ORG_NAME']);
    expect(variables(configError({ ORG_ADDRESS: 'Line 1\nLine 2' }))).toEqual(['ORG_ADDRESS']);
  });
});

describe('PUBLIC_URL in production', () => {
  const prod = { NODE_ENV: 'production', SMTP_URL: 'smtp://relay.example.org:587' };

  it('must be https: one-click unsubscribe (RFC 8058) needs https links', () => {
    const error = configError({ ...prod, PUBLIC_URL: 'http://news.example.org' });
    expect(variables(error)).toEqual(['PUBLIC_URL']);
    expect(error.problems[0]!.message).toMatch(/https/);
    expect(loadConfig({ env: { ...prod, PUBLIC_URL: 'https://news.example.org' } }).publicUrl).toBe(
      'https://news.example.org',
    );
  });

  it('may be http on this machine only (a local trial)', () => {
    for (const url of ['http://localhost:3000', 'http://127.0.0.1:8080', 'http://[::1]:3000']) {
      expect(loadConfig({ env: { ...prod, PUBLIC_URL: url } }).publicUrl).toBe(url);
    }
  });
});
