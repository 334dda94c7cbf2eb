// After tsc: copy the status page's static files (HTML, CSS, browser JS) beside its compiled routes,
// dist/app/status-page/assets, where they are served from. tsc copies only what it compiles.
import { cpSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
cpSync(join(root, 'app/status-page/assets'), join(root, 'dist/app/status-page/assets'), { recursive: true });
