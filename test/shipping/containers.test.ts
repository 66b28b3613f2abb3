// No Docker engine runs here, so the container files are checked for what they promise: the
// services, persistence, GPU reservation, read-only bundles, health checks, non-root users,
// secrets passed through by name, and configuration variables that emu-bot knows.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { environmentVariableFor, listConfigKeys, secretKeys } from '../../src/config/index.js';
import { packageRoot } from '../../src/core/index.js';

interface Service {
  image?: string;
  build?: { context: string; target: string };
  command?: string[];
  environment?: Record<string, string | null>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { resources: { reservations: { devices: { driver: string; capabilities: string[] }[] } } };
}

const compose = parse(readFileSync(join(packageRoot, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(join(packageRoot, 'Dockerfile'), 'utf8');
const knownVariables = new Set([...listConfigKeys(), ...secretKeys].map(environmentVariableFor));
const secretVariables = new Set<string>(secretKeys.map(environmentVariableFor));

/** The Dockerfile's stages by name, each with its instructions (continuation lines joined). */
function stages(): Map<string, string[]> {
  const lines = dockerfile
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  const byName = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of lines) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from !== null) {
      current = [];
      byName.set(from[1] as string, current);
    }
    current.push(line);
  }
  return byName;
}

describe('docker-compose.yml', () => {
  const { redis, bot, worker } = compose.services;

  it('runs Redis with append-only persistence on a volume', () => {
    expect(redis?.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    expect(redis?.volumes).toContain('redis-data:/data');
    expect(compose.volumes).toHaveProperty('redis-data');
  });

  it('runs the bot from the CPU image and the worker from the CUDA image, both after Redis is healthy', () => {
    expect(bot?.build?.target).toBe('cpu');
    expect(bot?.command).toEqual(['bot']);
    expect(worker?.build?.target).toBe('cuda');
    expect(worker?.command).toEqual(['worker']);
    for (const service of [bot, worker]) {
      expect(service?.depends_on?.['redis']?.condition).toBe('service_healthy');
      expect(service?.environment?.['EMU_BOT_REDIS__URL']).toBe('redis://redis:6379');
    }
  });

  it('reserves a GPU for the worker and mounts its bundles read-only where its configuration looks', () => {
    const [device] = worker?.deploy?.resources.reservations.devices ?? [];
    expect(device?.driver).toBe('nvidia');
    expect(device?.capabilities).toContain('gpu');
    const bundles = worker?.volumes?.find((volume) => volume.includes(':/bundles'));
    expect(bundles).toMatch(/:\/bundles:ro$/);
    expect(worker?.environment?.['EMU_BOT_MODELS__INSTRUCT__BUNDLE']).toMatch(/^\/bundles\//);
    expect(worker?.environment?.['EMU_BOT_MODELS__PRETRAIN__BUNDLE']).toMatch(/^\/bundles\//);
  });

  it('gives every service a health check', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.healthcheck?.test, name).toBeDefined();
    }
  });

  it('passes secrets through from the environment by name, and names only variables emu-bot knows', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        expect(knownVariables.has(variable), `${name}: ${variable}`).toBe(true);
        if (secretVariables.has(variable)) expect(value, `${name}: ${variable}`).toBeNull();
      }
    }
  });
});

describe('Dockerfile', () => {
  const byName = stages();

  it('builds with the same install and build as CI, then drops the development tools', () => {
    const build = (byName.get('build') ?? []).join('\n');
    expect(build).toMatch(/RUN npm ci && npm prune --omit=dev/);
    expect(readFileSync(join(packageRoot, 'package.json'), 'utf8')).toMatch(/"prepare": "npm run build"/);
  });

  it.each(['cpu', 'cuda'])('has a %s image that runs as a non-root user with a health check', (name) => {
    const stage = byName.get(name) ?? [];
    const user = stage.find((line) => line.startsWith('USER '));
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER\s+(root|0)\b/);
    expect(stage.some((line) => line.startsWith('HEALTHCHECK '))).toBe(true);
    expect(stage.some((line) => line.startsWith('ENTRYPOINT ["node", "bin/emu-bot.js"]'))).toBe(true);
  });

  it('puts the CUDA 12 provider into the CUDA image only', () => {
    expect((byName.get('build-cuda') ?? []).join('\n')).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
    expect((byName.get('cuda') ?? []).join('\n')).toMatch(/COPY --from=build-cuda \/app\/node_modules/);
    expect((byName.get('cpu') ?? []).join('\n')).toMatch(/COPY --from=build \/app\/node_modules/);
    expect(dockerfile).toMatch(/ARG CUDA_IMAGE=nvidia\/cuda:12\.[\d.]+-cudnn-runtime/);
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignored = readFileSync(join(packageRoot, '.dockerignore'), 'utf8').split('\n').filter(Boolean);
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((match) =>
      (match[1] as string).split(/\s+/),
    );
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) {
      expect(existsSync(join(packageRoot, source)), source).toBe(true);
      expect(ignored, source).not.toContain(source.split('/')[0]);
    }
  });

  it('sets only configuration variables emu-bot knows', () => {
    const variables = [...dockerfile.matchAll(/\b(EMU_BOT_[A-Z_]+)=/g)].map((match) => match[1] as string);
    expect(variables.length).toBeGreaterThan(0);
    for (const variable of variables) expect(knownVariables.has(variable), variable).toBe(true);
  });
});
