# pixgate on Node.js LTS (slim Debian). sharp ships libvips prebuilt for glibc, so no system package is needed.
# Not built in CI (CI has no Docker engine): docs/deployment.md says so, and a test checks what it copies.
#
#   docker build -t pixgate .
#   docker run --rm -p 8080:8080 -e PIXGATE_CAMO_KEYS=... -e IMAGOR_SECRET=... pixgate

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: nothing in the runtime needs one (sharp's binaries come as optional packages).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    PIXGATE_LOG_JSON=1 \
    PIXGATE_LISTEN=0.0.0.0:8080 \
    FILE_RESULT_STORAGE_BASE_DIR=/var/cache/pixgate \
    PIXGATE_RESULT_CACHE_MAX_SIZE=1GB
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY assets ./assets
RUN mkdir -p /var/cache/pixgate && chown node:node /var/cache/pixgate
USER node
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthcheck').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--initial-old-space-size=128", "bin/pixgate.js"]
