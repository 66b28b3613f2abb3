import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServerOptions {
  /** Starts the server with `requirepass`. */
  readonly password?: string;
  /** Persists every write to an append-only file (fsync always), so data survives `restart()`. */
  readonly appendOnly?: boolean;
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** The server's working directory, removed by `stop()`. */
  readonly directory: string;
  /** Stops the server and starts it again on the same port, as a Redis restart does. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A TCP port nobody listens on at the moment of asking. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(),
      );
    });
  });
}

function launch(port: number, directory: string, options: RedisServerOptions): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  args.push('--dir', directory, '--daemonize', 'no', '--loglevel', 'notice');
  if (options.password !== undefined) args.push('--requirepass', options.password);
  if (options.appendOnly === true) args.push('--appendonly', 'yes', '--appendfsync', 'always');
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output.trim()}`)));
  });
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * Starts a private redis-server on a free loopback port with its own data directory; `stop()`
 * ends it and removes the directory. Retries on the rare race where the port is taken between
 * choosing it and binding it.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const directory = await mkdtemp(join(tmpdir(), 'emu-bot-redis-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      let child = await launch(port, directory, options);
      return {
        port,
        directory,
        url: `redis://127.0.0.1:${port}`,
        async restart() {
          await terminate(child);
          child = await launch(port, directory, options);
        },
        async stop() {
          await terminate(child);
          await rm(directory, { recursive: true, force: true });
        },
      };
    } catch (error) {
      lastError = error;
    }
  }
  await rm(directory, { recursive: true, force: true });
  throw lastError;
}
