import { fileURLToPath } from 'node:url';

/** The installed package's root (holds config/ and bundles/), the same from src/ and dist/. */
export const packageRoot: string = fileURLToPath(new URL('../../', import.meta.url));
