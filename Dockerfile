# syntax=docker/dockerfile:1
# emu-bot's images, from one file:
#   docker build -t emu-bot:cpu .                  the CPU image (the default target)
#   docker build --target cuda -t emu-bot:cuda .   the GPU image: onnxruntime-node's CUDA 12 provider
# Both install and build exactly as CI does (`npm ci`, whose prepare script builds dist/), then
# drop the development tools. Model bundles other than the bundled tiny ones are mounted, never
# copied in: see docker-compose.yml and the README.

ARG NODE_IMAGE=node:20-bookworm-slim
# CUDA 12 with cuDNN 9, what onnxruntime-node's CUDA 12 provider is built against.
ARG CUDA_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
RUN npm ci && npm prune --omit=dev && npm cache clean --force

FROM build AS build-cuda
# The CUDA provider's libraries are too large for the npm registry: onnxruntime-node's own
# install script fetches them (the project's .npmrc skips that for CPU installs).
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js

FROM ${NODE_IMAGE} AS cpu
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
COPY bundles ./bundles
# JSON logs for the collector; the operations server (health, metrics) reachable from outside.
ENV NODE_ENV=production EMU_BOT_LOG__FORMAT=json EMU_BOT_OPERATIONS__HOST=0.0.0.0
USER node
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/livez').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/emu-bot.js"]
CMD ["start"]

FROM ${CUDA_IMAGE} AS cuda
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 emu
# The same Node.js as the build stage (Ubuntu 22.04's glibc is new enough for it).
COPY --from=build /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=build-cuda /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
COPY bundles ./bundles
ENV NODE_ENV=production EMU_BOT_LOG__FORMAT=json EMU_BOT_OPERATIONS__HOST=0.0.0.0 EMU_BOT_ENGINE__DEVICE=cuda
USER emu
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/livez').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/emu-bot.js"]
CMD ["worker"]
