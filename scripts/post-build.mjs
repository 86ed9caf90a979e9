// Makes the compiled CLI entry executable (tsc keeps the shebang but not the mode).
import { chmodSync, existsSync } from 'node:fs';
const entry = new URL('../dist/cli.js', import.meta.url);
if (existsSync(entry)) chmodSync(entry, 0o755);
