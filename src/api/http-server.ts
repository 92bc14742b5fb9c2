// Listening with explicit limits, for every HTTP server a process starts (docs/security.md):
// how long a client may take to send its headers and its whole request, how long an idle
// keep-alive connection stays open, and how many connections are served at once.
import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Config } from '../config.js';

export function listen(app: Express, port: number, config: Config): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = app.listen(port, config.host, (error?: Error) =>
      error ? reject(error) : resolve(server),
    );
    applyLimits(server, config.http);
  });
}

export function applyLimits(server: Server, limits: Config['http']): void {
  server.headersTimeout = limits.headersTimeoutMs;
  // The longest request allowed (an upload); shorter bodies are bounded by bodyTimeout().
  server.requestTimeout = Math.max(limits.uploadTimeoutMs, limits.requestTimeoutMs);
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
}
