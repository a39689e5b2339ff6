/**
 * docs/security.md is part of the product: the settings, error codes, files and commands it names
 * exist, each code's HTTP status in its tables is the catalogue's, and it covers what issue 12 asks of it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveCommandLine } from '../../cli/main';
import { ENVIRONMENT } from '../../config';
import { ERROR_CATALOGUE, ErrorCode } from '../../core/errors';

const ROOT = resolve(__dirname, '..', '..', '..');
const doc = readFileSync(resolve(ROOT, 'docs', 'security.md'), 'utf8');
const CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** Rows of the doc's tables, as cells. */
function tableRows(text: string): string[][] {
  return text.split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[-| ]+\|$/.test(line))
    .map((line) => line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));
}

/** The `code`s a cell names (backticked snake_case words the catalogue could hold). */
const codesIn = (cell: string) => [...cell.matchAll(/`([a-z]+(?:_[a-z]+)+)`/g)].map((m) => m[1]!);

describe('docs/security.md', () => {
  it('should name only environment variables Prefline reads', () => {
    const known = new Set(ENVIRONMENT.map((e) => e.name));
    const named = new Set([...doc.matchAll(/\b((?:PREFLINE|TEMPORAL)_[A-Z0-9_]*[A-Z0-9])\b/g)].map((m) => m[1]!));
    assert.deepEqual([...named].filter((name) => !known.has(name)), []);
    assert.ok(named.size > 30, `${named.size} variables found: the pattern still reads the doc`);
  });

  it('should give each error code in a table\'s code column the HTTP status the catalogue gives it', () => {
    let checked = 0;
    for (const row of tableRows(doc)) {
      const [, , codeCell, httpCell] = row;
      if (row.length !== 4 || codeCell === undefined || httpCell === undefined || !/^\d{3}(, \d{3})*$/.test(httpCell)) continue;
      const codes = codesIn(codeCell);
      const statuses = httpCell.split(', ').map(Number);
      assert.ok(codes.length > 0, `a row without a code: ${row.join(' | ')}`);
      // One status for all the row's codes, or one per code in order.
      const expected = statuses.length === 1 ? codes.map(() => statuses[0]) : statuses;
      assert.equal(codes.length, expected.length, `codes and statuses pair up: ${row.join(' | ')}`);
      codes.forEach((code, i) => {
        assert.ok(CODES.has(code), `"${code}" is in the catalogue`);
        assert.equal((ERROR_CATALOGUE as Record<string, { httpStatus?: number }>)[code]!.httpStatus, expected[i], `${code}'s HTTP status`);
        checked += 1;
      });
    }
    assert.ok(checked >= 25, `${checked} codes checked: the tables are still read`);
  });

  it('should name only error codes of the catalogue', () => {
    const looksLikeCode = (word: string) => /^prefline_[a-z_]+$/.test(word) || CODES.has(word);
    const named = [...new Set(codesIn(doc))].filter((word) => looksLikeCode(word) || /^(voting|session|invite|oidc|wrong|unknown|forbidden|rate|invalid)_/.test(word));
    assert.deepEqual(named.filter((code) => !CODES.has(code)), []);
    assert.ok(named.length > 30, `${named.length} codes named`);
  });

  it('should name only source files and documents that exist', () => {
    const files = [...new Set([...doc.matchAll(/`((?:core|gateway|channels|connectors|store|workflows|cli|config|ops|releases)\/[\w./-]+\.ts)`/g)].map((m) => m[1]!))];
    assert.ok(files.length >= 10, JSON.stringify(files));
    assert.deepEqual(files.filter((f) => !existsSync(resolve(ROOT, f))), []);
    const links = [...new Set([...doc.matchAll(/\]\(([\w-]+\.md)(?:#[\w-]+)?\)/g)].map((m) => m[1]!))];
    assert.deepEqual(links.filter((l) => !existsSync(resolve(ROOT, 'docs', l))), []);
    assert.ok(links.includes('deploy.md'));
  });

  it('should link only to sections that exist', () => {
    const slug = (heading: string) => heading.toLowerCase().replace(/[`:]/g, '').replace(/[^a-z0-9 -]/g, '').trim().replace(/ /g, '-');
    const own = new Set([...doc.matchAll(/^#{2,4} (.+)$/gm)].map((m) => slug(m[1]!)));
    const deploy = new Set([...readFileSync(resolve(ROOT, 'docs', 'deploy.md'), 'utf8').matchAll(/^#{2,4} (.+)$/gm)].map((m) => slug(m[1]!)));
    for (const [, file, anchor] of doc.matchAll(/\]\(([\w-]+\.md)?#([\w-]+)\)/g)) {
      if (file === undefined) assert.ok(own.has(anchor!), `#${anchor}`);
      else if (file === 'deploy.md') assert.ok(deploy.has(anchor!), `deploy.md#${anchor}`);
    }
  });

  it('should give command names the strict CLI accepts', () => {
    const commands = [...new Set([...doc.matchAll(/`prefline ([a-z]+(?: (?:invite|list|revoke|setup|publish|verify|diff|export))?)/g)].map((m) => m[1]!))];
    assert.ok(commands.length >= 6, JSON.stringify(commands));
    for (const command of commands) assert.doesNotThrow(() => resolveCommandLine([...command.split(' '), '--help']), `prefline ${command}`);
  });

  it('should cover what issue 12 asks of it', () => {
    const headings = [...doc.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
    for (const wanted of [/^Who may do what$/, /^What each boundary checks$/, /beyond loopback$/, /^The ledger/]) {
      assert.ok(headings.some((h) => wanted.test(h)), `a section matching ${wanted} (sections: ${headings.join(' | ')})`);
    }
    const who = doc.slice(doc.indexOf('## Who may do what'), doc.indexOf('## What each boundary checks'));
    for (const role of ['ops', 'invited', 'OIDC', 'open panel', 'Slack raters', 'email raters', 'analysts']) assert.match(who, new RegExp(`\\*\\*[^*]*${role}[^*]*\\*\\*`), role);
    const network = doc.slice(doc.indexOf('## Running Prefline beyond loopback'), doc.indexOf('## The ledger'));
    for (const topic of ['PREFLINE_PUBLIC_URL', 'TLS', 'Cookies', 'Secrets', 'Files', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_API_KEY', 'deploy.md#connecting']) assert.ok(network.includes(topic), topic);
  });
});
