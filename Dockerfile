# Bulletin: one image for every role.
#
#   docker build -t bulletin .
#   docker run -e DATABASE_URL=... -e REDIS_URL=... -e SMTP_URL=... -p 3000:3000 bulletin
#                                            # API + every worker in one process (role "all")
#   docker run ... bulletin api              # the admin API and public pages only
#   docker run ... bulletin worker           # workers only
#
# Every role also serves /health, /ready and /metrics on METRICS_PORT (9464 in this image), so
# one HEALTHCHECK fits them all and Prometheus scrapes workers and the API alike.
#
# Every step below is a plain command that can be run by hand in a checkout. The runtime
# image holds only what the compiled code reads: package.json (the code finds its root by
# it), config/, src/db/migrations/ (applied at start), templates/, dist/ and the production
# node_modules.

# ---- build: install everything, compile TypeScript to dist/ ---------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
# NODE_ENV stays unset here: with NODE_ENV=production `npm ci` would skip the dev
# dependencies (typescript, @types/*) that the build needs.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build
# git keeps no empty folder: make sure templates/ and bin/ exist for the runtime COPY lines.
RUN mkdir -p templates bin

# ---- deps: production dependencies only, in a clean folder --------------------------------
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime -------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Code and dependencies stay owned by root: the service user can read them, not change them.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/config ./config
COPY --from=build /app/src/db/migrations ./src/db/migrations
COPY --from=build /app/src/api/console/assets ./src/api/console/assets
COPY --from=build /app/templates ./templates
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
# var/ is the only folder the service writes to (the development outbox, OUTBOX_DIR; it is
# refused with NODE_ENV=production, but stays usable when an operator overrides NODE_ENV).
RUN mkdir -p var/outbox && chown -R node:node var
# "node" (uid 1000) comes with the official image.
USER node
ENV METRICS_PORT=9464
EXPOSE 3000 9464
# Liveness only: /ready would mark the container unhealthy whenever PostgreSQL, Redis or the
# SMTP relay blips, though the process itself is fine. Slim images have no curl: node asks,
# on the ops port that every role serves.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "require('node:http').get({ host: '127.0.0.1', port: process.env.METRICS_PORT || process.env.PORT || 3000, path: '/health', timeout: 4000 }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('timeout', () => process.exit(1)).on('error', () => process.exit(1))"]
# SIGTERM drains in-flight work for up to SHUTDOWN_TIMEOUT_MS (30 s by default): give the
# container longer than that before SIGKILL (docker run --stop-timeout 40, or
# stop_grace_period in compose; Docker's own default is only 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/main.js"]
CMD ["all"]
