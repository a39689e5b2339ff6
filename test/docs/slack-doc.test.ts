/** docs/slack.md is the setup guide: its app manifest and its table must match what the gateway serves and reads. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ENVIRONMENT } from '../../config';

const doc = readFileSync(resolve(__dirname, '..', '..', '..', 'docs', 'slack.md'), 'utf8');
const manifest = /### The app manifest\n\n```yaml\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';

describe('docs/slack.md', () => {
  it('should declare the /prefline command at the gateway\'s route, with the commands scope', () => {
    assert.match(manifest, /slash_commands:\n\s+- command: \/prefline\n\s+url: https:\/\/prefline\.example\.com\/slack\/commands\n/);
    assert.match(manifest, /^\s+- commands\b/m);
    assert.match(manifest, /^\s+- usergroups:read\b/m);
    for (const route of ['/slack/events', '/slack/interactivity', '/slack/commands']) assert.ok(manifest.includes(`https://prefline.example.com${route}`), route);
  });

  it('should document every PREFLINE_SLACK_* variable', () => {
    const missing = ENVIRONMENT.map((s) => s.name).filter((n) => n.startsWith('PREFLINE_SLACK_') && !doc.includes(`\`${n}\``));
    assert.deepEqual(missing, []);
  });
});
