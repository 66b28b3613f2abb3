import { execFile } from 'node:child_process';
import type { Config } from '../../config/index.js';
import type { Check, CheckResult } from '../check.js';

/** ffmpeg decodes video frames and ffprobe counts them; both come from Debian's ffmpeg package. */
export function ffmpegCheck(config: Config): Check {
  const tools = [
    { name: 'ffmpeg', command: config.media.ffmpegPath, key: 'media.ffmpegPath' },
    { name: 'ffprobe', command: config.media.ffprobePath, key: 'media.ffprobePath' },
  ];
  return {
    name: 'ffmpeg',
    run(signal) {
      return Promise.all(tools.map((tool) => probe(tool.name, tool.command, tool.key, signal)));
    },
  };
}

function probe(name: string, command: string, key: string, signal: AbortSignal): Promise<CheckResult> {
  return new Promise((resolve) => {
    execFile(command, ['-hide_banner', '-version'], { timeout: 5000, signal }, (error, stdout) => {
      if (error !== null) {
        const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : error.message;
        resolve({
          name,
          status: 'fail',
          summary: `${command}: ${reason}`,
          fix: `install ffmpeg (Debian: apt-get install ffmpeg) or set ${key}; it reads video frames`,
        });
        return;
      }
      const version = new RegExp(`${name} version (\\S+)`).exec(stdout)?.[1] ?? 'unknown version';
      resolve({ name, status: 'ok', summary: `${command} (${name} ${version})` });
    });
  });
}
