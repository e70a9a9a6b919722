# syntax=docker/dockerfile:1
# kbak container image: `docker build -t kbak:0.1.0 .`, then `docker run --rm kbak:0.1.0 dump --help`.
# Two stages: a full Node image compiles TypeScript and keeps only the production dependencies; the
# final stage is distroless (Node and glibc, no shell, no package manager) and runs as a non-root user.
# NODE_MAJOR picks the maintained LTS line (22 or 24); both stages use the same major and the same libc.
ARG NODE_MAJOR=24

FROM node:${NODE_MAJOR}-trixie-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: the runtime dependencies are pure JS, WebAssembly (zstd) or a prebuilt N-API
# binary that npm picks from optionalDependencies by platform and libc (lz4-napi's linux-x64-gnu or
# linux-arm64-gnu: glibc, which is why both stages are Debian, not Alpine); the only install script
# in the tree (protobufjs, a dev dependency) prints a notice. An image build runs no code it needs not.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund --ignore-scripts

FROM gcr.io/distroless/nodejs${NODE_MAJOR}-debian13:nonroot AS app
LABEL org.opencontainers.image.title="kbak" \
      org.opencontainers.image.description="Back up Kafka topics and seed isolated test lanes from the backups" \
      org.opencontainers.image.licenses="Apache-2.0"
# No NODE_OPTIONS: bin/kbak.js keeps V8's young generation from growing itself, and a semi-space
# flag given here would replace that (peak RSS as measured by `npm run bench`, BENCHMARKS.md).
ENV NODE_ENV=production
WORKDIR /app
# Copied as root-owned and not writable by the runtime user: the app cannot modify itself, and
# the root filesystem can be mounted read-only (deploy/ does).
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY FORMAT.md ./FORMAT.md

# Node's module compile cache, filled at build time: most of a short command's start-up is V8
# compiling dist/ and its dependencies (README "Configuration"). Filled as the runtime user (Node
# names the cache's sub-folder by Node version, V8 flags and uid) in this image (same Node,
# same paths), then copied owned by root: read at run time, never written (the root filesystem
# is read-only; Node then just skips saving, silently). Node checks each file's source hash,
# so an entry never outlives the file it was compiled from.
FROM app AS compile-cache
USER 65532:65532
ENV NODE_COMPILE_CACHE=/tmp/kbak-compile-cache
RUN ["/nodejs/bin/node", "/app/bin/warm-compile-cache.js"]

FROM app
COPY --from=compile-cache /tmp/kbak-compile-cache /app/compile-cache
ENV NODE_COMPILE_CACHE=/app/compile-cache
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/kbak.js"]
CMD ["--help"]
