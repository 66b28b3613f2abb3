# A first, CPU-only image of emu-bot. The shipping work adds the GPU (CUDA 12) variant, model
# bundles mounted as volumes, and the bot and worker entry points.
FROM node:20-bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY config ./config
# `npm ci` builds dist/ through the prepare script; dev tools are dropped afterwards.
RUN npm ci && npm prune --omit=dev && npm cache clean --force

USER node
ENTRYPOINT ["node", "bin/emu-bot.js"]
CMD ["doctor"]
