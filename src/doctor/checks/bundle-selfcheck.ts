import { type BundleSessionSettings, loadBundle, runSelfCheck } from '../../engine/index.js';
import type { Check, CheckResult } from '../check.js';

/** Loads a bundle as the engine would and runs its self-check set through onnxruntime. */
export function bundleSelfCheck(directory: string, settings: BundleSessionSettings): Check {
  return {
    name: 'bundle self-check',
    async run() {
      const bundle = await loadBundle(directory, settings);
      try {
        const results = await runSelfCheck(bundle);
        return results.map(
          (result): CheckResult => ({
            name: `${result.case} ${result.output}`,
            status: result.passed ? 'ok' : 'fail',
            summary: `max abs error ${result.maxAbsError.toExponential(2)} (tolerance ${result.tolerance.toExponential(2)})`,
            ...(result.passed
              ? {}
              : {
                  fix: 'the graph disagrees with the PyTorch reference: re-export the bundle, or check the execution provider',
                }),
          }),
        );
      } finally {
        await bundle.release();
      }
    },
  };
}
