import { execFile } from 'node:child_process';
import type { Config } from '../../config/index.js';
import type { Check } from '../check.js';

export function ffmpegCheck(config: Config): Check {
  const command = config.media.ffmpegPath;
  return {
    name: 'ffmpeg',
    run(signal) {
      return new Promise((resolve) => {
        execFile(command, ['-hide_banner', '-version'], { timeout: 5000, signal }, (error, stdout) => {
          if (error !== null) {
            const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : error.message;
            resolve([
              {
                name: 'ffmpeg',
                status: 'fail',
                summary: `${command}: ${reason}`,
                fix: 'install ffmpeg (Debian: apt-get install ffmpeg) or set media.ffmpegPath; it reads video frames',
              },
            ]);
            return;
          }
          const version = /ffmpeg version (\S+)/.exec(stdout)?.[1] ?? 'unknown version';
          resolve([{ name: 'ffmpeg', status: 'ok', summary: `${command} (ffmpeg ${version})` }]);
        });
      });
    },
  };
}
