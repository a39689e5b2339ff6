// Copies non-TypeScript assets (the rating page) next to the compiled gateway.
import { cpSync, mkdirSync } from 'node:fs';
mkdirSync('dist/gateway/static', { recursive: true });
cpSync('gateway/static', 'dist/gateway/static', { recursive: true });
