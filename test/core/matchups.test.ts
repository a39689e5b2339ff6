import assert from 'node:assert/strict';
import { MAX_MATCHUP_ROWS, parseMatchupsCsv } from '../../core/matchups';
import { validateLifecycleInput } from '../../workflows/input';

const SHA = 'ab'.repeat(32);

describe('core/matchups: a matchups CSV as compare lifecycle inputs', () => {
  it('should map each row to a compare input bringing both images, models from the paths\' folders, every input valid', () => {
    const csv = '\uFEFFprompt,image1,image2\r\n"A fox, in snow",flux/001.png,sdxl/001.png\r\nA "quoted" owl,flux/002.png,https://example.com/owl.png\r\n';
    const { matchups, errors } = parseMatchupsCsv(csv, { pathPrefix: 'seed/', defaults: { responses: 15, campaign: 'seed-1' } });
    assert.deepEqual(errors, []);
    assert.deepEqual(matchups, [
      {
        line: 2,
        input: {
          responses: 15, campaign: 'seed-1', task: 'compare', prompt: 'A fox, in snow',
          candidates: [
            { ref: 'file:seed/flux/001.png', model: 'flux', metadata: { matchup_line: 2 } },
            { ref: 'file:seed/sdxl/001.png', model: 'sdxl', metadata: { matchup_line: 2 } },
          ],
        },
      },
      {
        line: 3,
        input: {
          responses: 15, campaign: 'seed-1', task: 'compare', prompt: 'A "quoted" owl',
          candidates: [
            { ref: 'file:seed/flux/002.png', model: 'flux', metadata: { matchup_line: 3 } },
            { ref: 'https://example.com/owl.png', model: 'image2', metadata: { matchup_line: 3 } },
          ],
        },
      },
    ]);
    for (const { input } of matchups) assert.ok(validateLifecycleInput(input, Date.now()).ok, JSON.stringify(input));
  });

  it('should take model and question columns in any order and case, and references as they are', () => {
    const csv = `Image2,MODEL1,prompt,image1,model2,question\nsha256:${SHA},a,p,001.png,b,Which is sharper?\n`;
    const { matchups, errors } = parseMatchupsCsv(csv);
    assert.deepEqual(errors, []);
    assert.deepEqual(matchups[0]?.input, {
      task: 'compare', prompt: 'p', question: 'Which is sharper?',
      candidates: [{ ref: 'file:001.png', model: 'a', metadata: { matchup_line: 2 } }, { ref: `sha256:${SHA}`, model: 'b', metadata: { matchup_line: 2 } }],
    });
  });

  it('should refuse unknown, repeated and missing columns in the header, naming them', () => {
    assert.deepEqual(parseMatchupsCsv('prompt,image1,imgae2,prompt\np,a.png,b.png,q\n').errors, [
      'line 1: unknown column "imgae2"; known: prompt, image1, image2, model1, model2, question',
      'line 1: column "prompt" appears twice',
      'line 1: missing column "image2"',
    ]);
    assert.deepEqual(parseMatchupsCsv('').errors, ['the file is empty: expected a header row prompt,image1,image2']);
    assert.deepEqual(parseMatchupsCsv('prompt,image1,image2\n').errors, ['no matchups: the file has a header and no rows']);
  });

  it('should name the line of every bad row, start none of them, and report a CSV that cannot be read with its line', () => {
    const { matchups, errors } = parseMatchupsCsv('prompt,image1,image2\np,a.png,b.png\n\nq,c.png\n,d.png,e.png\nr,f.png,g.png,extra\n');
    assert.deepEqual(matchups, []);
    assert.deepEqual(errors, ['line 4: 2 fields, the header has 3', 'line 5: prompt: required', 'line 6: 4 fields, the header has 3']);
    const broken = parseMatchupsCsv('prompt,image1,image2\n"p,a.png,b.png\n');
    assert.equal(broken.errors.length, 1);
    assert.match(broken.errors[0]!, /^line 2: not a readable CSV: .*Quote Not Closed/);
  });

  it('should refuse more rows than one file may start', () => {
    const csv = 'prompt,image1,image2\n' + 'p,a.png,b.png\n'.repeat(MAX_MATCHUP_ROWS + 1);
    assert.deepEqual(parseMatchupsCsv(csv).errors, [`${MAX_MATCHUP_ROWS + 1} rows: at most 10,000 matchups per file; split it`]);
  });
});
