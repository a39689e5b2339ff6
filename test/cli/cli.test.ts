import assert from 'node:assert/strict';
import { defaultLifecycleId, formatStatus, withCliProvenance } from '../../cli/lifecycle-commands';
import { validateLifecycleInput } from '../../workflows/input';
import { parseCommandArgs, type CommandSpec } from '../../cli/args';
import { formatResult } from '../../cli/query';
import type { QueryResult } from '../../store/Ledger';
import type { LifecycleStatus } from '../../workflows/types';

describe('cli', () => {
  describe('parseCommandArgs', () => {
    // The options these cases use, declared as every command declares its own.
    const text = (name: string) => [name, { type: 'string', description: name }] as const;
    const spec: CommandSpec = {
      name: 'test',
      summary: 'options of the parser cases',
      positionals: [0, 5],
      options: Object.fromEntries([
        ...['rater', 'comment', 'format', 'filter', 'offset', 'x', 'y'].map(text),
        ['no-validate', { type: 'boolean', description: 'a switch' }],
        ['wait', { type: 'boolean', description: 'a switch' }],
      ]),
    };
    const parseArgs = (argv: string[]) => parseCommandArgs(spec, argv);

    it('should split positionals and flags', () => {
      assert.deepEqual(parseArgs(['lc-1', 'c2', 'up', '--rater', 'alice', '--comment', 'nice one']), {
        positional: ['lc-1', 'c2', 'up'],
        flags: { rater: 'alice', comment: 'nice one' },
      });
    });

    it('should take --name=value inline, keeping later = signs and empty values', () => {
      assert.deepEqual(parseArgs(['--format=csv', '--filter=a=b=c', '--comment=']), {
        positional: [],
        flags: { format: 'csv', filter: 'a=b=c', comment: '' },
      });
    });

    it('should treat a flag followed by another flag or by nothing as boolean', () => {
      assert.deepEqual(parseArgs(['@input.json', '--no-validate', '--wait']), {
        positional: ['@input.json'],
        flags: { 'no-validate': true, wait: true },
      });
    });

    it('should take values that start with a dash inline, or contain spaces and newlines', () => {
      // `--offset -5` used to take -5 as the value; a value that looks like an option is now refused
      // unless written inline, because `--rater --comment x` must not eat --comment.
      assert.deepEqual(parseArgs(['--offset=-5', '--comment', 'line 1\nline 2', 'pos']), {
        positional: ['pos'],
        flags: { offset: '-5', comment: 'line 1\nline 2' },
      });
      assert.throws(() => parseArgs(['--offset', '-5']), /--offset needs a value, but is followed by "-5".*--offset=-5/);
    });

    it('should keep an inline value with a newline whole', () => {
      assert.deepEqual(parseArgs(['--comment=a\nb=c']).flags, { comment: 'a\nb=c' });
    });

    it('should let the last occurrence of a flag win', () => {
      assert.deepEqual(parseArgs(['--format', 'csv', '--format=json']).flags, { format: 'json' });
    });

    it('should keep positionals in order around flags', () => {
      assert.deepEqual(parseArgs(['a', '--x', '1', 'b', '--y=2', 'c']), { positional: ['a', 'b', 'c'], flags: { x: '1', y: '2' } });
    });

    it('should return nothing for no arguments', () => {
      assert.deepEqual(parseArgs([]), { positional: [], flags: {} });
    });

    it('should keep a single dash (stdin) as a positional', () => {
      assert.deepEqual(parseArgs(['-', '--wait']), { positional: ['-'], flags: { wait: true } });
    });
  });

  describe('formatResult', () => {
    const result: QueryResult = {
      columns: ['rater', 'rating', 'comment'],
      rows: [
        { rater: 'r_01', rating: 1, comment: 'plain' },
        { rater: 'r_02', rating: -1, comment: 'has, comma' },
        { rater: 'r_03', rating: null, comment: 'says "hi"' },
        { rater: 'r_04', rating: 1, comment: 'two\nlines' },
        { rater: 'r_05', rating: 1, comment: null },
      ],
    };

    describe('csv', () => {
      it('should write a header and one line per row, quoting only where needed', () => {
        assert.equal(
          formatResult(result, 'csv'),
          ['rater,rating,comment', 'r_01,1,plain', 'r_02,-1,"has, comma"', 'r_03,,"says ""hi"""', 'r_04,1,"two\nlines"', 'r_05,1,'].join('\n'),
        );
      });

      it('should quote a bare carriage return, which CSV readers take as a line end', () => {
        const out = formatResult({ columns: ['c'], rows: [{ c: 'a\rb' }, { c: 'x\r\ny' }] }, 'csv');
        assert.equal(out, 'c\n"a\rb"\n"x\r\ny"');
      });

      it('should escape header names too', () => {
        assert.equal(formatResult({ columns: ['a,b', 'say "x"'], rows: [] }, 'csv'), '"a,b","say ""x"""');
      });

      it('should write nulls and missing values as empty fields', () => {
        assert.equal(formatResult({ columns: ['a', 'b', 'c'], rows: [{ a: null, c: undefined }] }, 'csv'), 'a,b,c\n,,');
      });

      it('should write arrays and objects as quoted JSON', () => {
        const out = formatResult({ columns: ['models', 'params'], rows: [{ models: ['demo:shapes', 'demo:text'], params: { seed: 1 } }] }, 'csv');
        assert.equal(out, 'models,params\n"[""demo:shapes"",""demo:text""]","{""seed"":1}"');
      });

      it('should write booleans and numbers as text', () => {
        assert.equal(formatResult({ columns: ['b', 'n'], rows: [{ b: false, n: 0 }] }, 'csv'), 'b,n\nfalse,0');
      });
    });

    describe('json', () => {
      it('should print the rows as pretty JSON, keeping nulls', () => {
        const out = formatResult(result, 'json');
        assert.deepEqual(JSON.parse(out), result.rows);
        assert.ok(out.includes('\n  {'), 'indented');
        assert.equal(formatResult({ columns: ['a'], rows: [] }, 'json'), '[]');
      });
    });

    describe('table', () => {
      it('should align columns under a header and count rows', () => {
        const out = formatResult({ columns: ['id', 'n'], rows: [{ id: 'c1', n: 10 }, { id: 'c22', n: null }] }, 'table');
        assert.equal(out, ['id  │ n ', '────┼───', 'c1  │ 10', 'c22 │   ', '(2 rows)'].join('\n'));
      });

      it('should say "1 row" and "0 rows"', () => {
        assert.match(formatResult({ columns: ['a'], rows: [{ a: 1 }] }, 'table'), /\(1 row\)$/);
        assert.match(formatResult({ columns: ['a'], rows: [] }, 'table'), /\(0 rows\)$/);
      });

      it('should cut long values at 60 characters with an ellipsis', () => {
        const long = 'x'.repeat(100);
        const lines = formatResult({ columns: ['v'], rows: [{ v: long }, { v: 'short' }] }, 'table').split('\n');
        assert.equal(lines[2], 'x'.repeat(59) + '…');
        assert.equal(lines[2]!.length, 60);
        assert.equal(lines[3], 'short'.padEnd(60));
        assert.equal(lines[1], '─'.repeat(60));
      });

      it('should show nulls as blanks and objects as JSON', () => {
        const lines = formatResult({ columns: ['o', 'z'], rows: [{ o: { a: 1 }, z: null }] }, 'table').split('\n');
        assert.equal(lines[2], '{"a":1} │  ');
      });
    });

    // Issue 12, Found 8: what raters type must not drive the analyst's terminal or spreadsheet.
    describe('text from raters', () => {
      const ESC = '\u001b';
      const hostile = `${ESC}]0;owned\u0007 ${ESC}[2J\u202etxt.exe\u2066 \u009b31m tab\there`;

      it('should show terminal controls in a table as visible escapes, never raw', () => {
        const out = formatResult({ columns: ['comment'], rows: [{ comment: hostile }, { comment: 'line 1\nline 2' }] }, 'table');
        // eslint-disable-next-line no-control-regex -- finding control characters is the point
        assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
        const lines = out.split('\n');
        assert.equal(lines[2]!.trimEnd(), '␛]0;owned␇ ␛[2J\\u202etxt.exe\\u2066 \\u009b31m tab␉here');
        assert.equal(lines[3]!.trimEnd(), 'line 1␊line 2', 'a newline in a cell stays on its row');
        assert.equal(lines.length, 5);
      });

      it('should show controls in column names as escapes too', () => {
        assert.match(formatResult({ columns: [`a${ESC}[31mb`], rows: [] }, 'table'), /^a␛\[31mb/);
      });

      it('should keep JSON parseable to the same text while escaping what JSON.stringify leaves raw', () => {
        const out = formatResult({ columns: ['c'], rows: [{ c: hostile }] }, 'json');
        assert.doesNotMatch(out, /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
        assert.ok(!out.includes(ESC));
        assert.deepEqual(JSON.parse(out), [{ c: hostile }]);
      });

      it('should neutralise CSV cells a spreadsheet would run as formulas (=, +, -, @, tab, CR), quoting where needed', () => {
        const rows = ['=HYPERLINK("http://evil","x")', '+1+cmd|" /C calc"!A0', '-2+3', '@SUM(A1)', '\t=1', '\r=1', 'plain', 'a=b'].map((c) => ({ c }));
        const out = formatResult({ columns: ['c'], columnTypes: ['VARCHAR'], rows }, 'csv').split('\n');
        assert.deepEqual(out.slice(1, 6), [`"'=HYPERLINK(""http://evil"",""x"")"`, `"'+1+cmd|"" /C calc""!A0"`, "'-2+3", "'@SUM(A1)", "'\t=1"]);
        assert.equal(out.slice(6).join('\n'), `"'\r=1"\nplain\na=b`);
      });

      it('should leave numbers numbers: negative numbers, and numeric columns DuckDB hands over as strings', () => {
        const out = formatResult({ columns: ['n', 'big', 'dec', 'text'], columnTypes: ['INTEGER', 'BIGINT', 'DECIMAL(18,3)', 'VARCHAR'], rows: [{ n: -1, big: '-9007199254740993', dec: '-1.500', text: '-1' }] }, 'csv');
        assert.equal(out, "n,big,dec,text\n-1,-9007199254740993,-1.500,'-1");
      });

      it('should neutralise formulas in rows built without column types (release list, diff)', () => {
        assert.equal(formatResult({ columns: ['release', 'n'], rows: [{ release: '=1+1', n: -3 }] }, 'csv'), "release,n\n'=1+1,-3");
      });

      it('should show controls in CSV as escapes, keeping the newlines a quoted field may hold', () => {
        const out = formatResult({ columns: ['c'], rows: [{ c: `${ESC}[31mred\nnext` }] }, 'csv');
        assert.equal(out, 'c\n"␛[31mred\nnext"');
      });
    });
  });

  describe('withCliProvenance', () => {
    it('should start lifecycles as started from the CLI, an input the workflow accepts, without changing the given object', () => {
      const input = { prompt: 'a red fox', model: 'demo:shapes', startedFrom: 'temporal-ui' };
      const started = withCliProvenance(input) as Record<string, unknown>;
      assert.equal(started.startedFrom, 'cli');
      assert.equal(input.startedFrom, 'temporal-ui');
      const checked = validateLifecycleInput(started, Date.now());
      assert.ok(checked.ok && checked.plan.startedFrom === 'cli');
      // Not an object (only with --no-validate): passed on for the workflow to refuse.
      assert.equal(withCliProvenance('x'), 'x');
      assert.deepEqual(withCliProvenance([1]), [1]);
    });
  });

  describe('defaultLifecycleId', () => {
    const input = { prompt: 'a red fox', model: 'demo:shapes' };
    const day = new Date('2026-03-01T08:00:00Z');

    it('should be lc-<UTC day>-<10 hex digits>', () => {
      assert.match(defaultLifecycleId(input, day), /^lc-2026-03-01-[0-9a-f]{10}$/);
    });

    it('should be stable for the same input on the same day', () => {
      const a = defaultLifecycleId(input, day);
      assert.equal(defaultLifecycleId({ ...input }, new Date('2026-03-01T23:59:59.999Z')), a);
      assert.equal(defaultLifecycleId(JSON.parse(JSON.stringify(input)), new Date('2026-03-01T00:00:00Z')), a);
    });

    it('should differ by input', () => {
      const a = defaultLifecycleId(input, day);
      assert.notEqual(defaultLifecycleId({ ...input, prompt: 'a red fox!' }, day), a);
      assert.notEqual(defaultLifecycleId({ ...input, candidates: 2 }, day), a);
      assert.notEqual(defaultLifecycleId('a red fox', day), defaultLifecycleId('a red fax', day));
    });

    it('should differ by day but keep the digest', () => {
      const a = defaultLifecycleId(input, new Date('2026-03-01T23:59:59Z'));
      const b = defaultLifecycleId(input, new Date('2026-03-02T00:00:01Z'));
      assert.notEqual(a, b);
      assert.match(b, /^lc-2026-03-02-/);
      assert.equal(a.slice(-10), b.slice(-10));
    });
  });

  describe('formatStatus', () => {
    function status(overrides: Partial<LifecycleStatus> = {}): LifecycleStatus {
      return {
        lifecycleId: 'lc-2026-03-01-abc',
        prompt: 'a red fox',
        phase: 'voting',
        channel: 'web',
        models: ['demo:shapes', 'demo:text'],
        quorum: { kind: 'perCandidate', votes: 3 },
        candidates: [
          {
            id: 'c1', label: 'A', model: 'demo:shapes', kind: 'image', placeholder: true,
            artifact: { sha256: 'a'.repeat(64), mime: 'image/png', size: 10 },
            tally: { candidateId: 'c1', label: 'A', up: 2, down: 1, score: 1, votes: 3 },
          },
          {
            id: 'c2', label: 'B', model: 'replicate:acme/painter', kind: 'image', placeholder: false,
            artifact: { sha256: 'b'.repeat(64), mime: 'image/png', size: 10 },
            tally: { candidateId: 'c2', label: 'B', up: 0, down: 4, score: -4, votes: 4 },
          },
        ],
        votesAccepted: 9,
        ...overrides,
      };
    }

    it('should show the lifecycle, its phase, settings, votes and one line per candidate', () => {
      assert.equal(
        formatStatus(status()),
        [
          'lc-2026-03-01-abc  [voting]',
          '  prompt:   a red fox',
          '  models:   demo:shapes, demo:text   channel: web',
          '  quorum:   3 votes per candidate',
          '  votes:    9 accepted',
          '  A (c1) demo:shapes [demo placeholder]: 👍 2  👎 1  score 1',
          '  B (c2) replicate:acme/painter: 👍 0  👎 4  score -4',
        ].join('\n'),
      );
    });

    it('should show the close reason, campaign, total quorum and deadline when present', () => {
      const out = formatStatus(status({ phase: 'completed', closeReason: 'deadline', campaign: 'spring', quorum: { kind: 'total', votes: 20 }, deadlineAt: '2026-03-02T08:00:00.000Z' }));
      const lines = out.split('\n');
      assert.equal(lines[0], 'lc-2026-03-01-abc  [completed, closed: deadline]');
      assert.equal(lines[2], '  models:   demo:shapes, demo:text   channel: web   campaign: spring');
      assert.equal(lines[3], '  quorum:   20 votes in total   deadline: 2026-03-02T08:00:00.000Z');
    });

    it('should print only the header lines while generating', () => {
      const out = formatStatus(status({ phase: 'generating', candidates: [], votesAccepted: 0 }));
      assert.equal(out.split('\n').length, 5);
      assert.match(out, /\[generating\]/);
      assert.match(out, /votes: {4}0 accepted$/);
    });
  });
});
