/**
 * Every citation in the repository resolves inside the repository.
 *
 * Rules:
 * - A `something.md` mentioned in src/, bench/, fuzz/, test/, bin/, README.md or docs/ names a
 *   file that exists: as written from the repository root, beside the citing file, or (for a
 *   bare name) in docs/. Mentions inside URLs are not checked.
 * - A `§N` or `§N.M` (and the far end of a range `§A–§B` / `§A–B`) refers to the nearest
 *   doc mentioned before it in the same file. In a docs/*.md file it refers to the doc whose
 *   citation it continues (`docs/x.md §1, §2 and §3`, across lines too), else to that doc
 *   itself. The doc must have a heading numbered so (`## 4. …`, `### 8.1 …`). A `§` with no
 *   doc before it is an error.
 * - Nothing names the session's shared directory outside the repository.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// dist/test/docs-citations.test.js → repository root.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const TEXT = /\.(ts|js|mjs|cjs|c|cc|h|sh|md|gyp|json)$/;

function walk(dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const f of readdirSync(abs)) {
    const p = join(dir, f);
    if (statSync(join(root, p)).isDirectory()) out.push(...walk(p));
    else if (TEXT.test(f) || dir === 'bin') out.push(p);
  }
  return out;
}

// This file cites made-up docs in its own checks of the checker.
const SELF = 'test/docs-citations.test.ts';

/** The files whose citations must resolve. */
function citingFiles(): string[] {
  return [
    ...['src', 'bench', 'fuzz', 'test', 'bin', 'docs'].flatMap(walk),
    'README.md',
    'binding.gyp',
  ].filter((f) => existsSync(join(root, f)) && !f.startsWith('bench/results/') && f !== SELF);
}

/** Section numbers a markdown document defines in its headings. */
export function sectionsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6}\s+(\d+(?:\.\d+)*)[.)]?\s/gm)) out.add(m[1]!);
  return out;
}

// Built from pieces so that this file does not cite what it forbids.
const OUTSIDE = [['..', 'shared'].join('/'), ['/work', 'shared'].join('/'), 'shared/docs'];

const DOC = /(?<![\w./-])(\/?(?:\.{1,2}\/)*(?:[\w-]+\/)*[\w-]+\.md)\b/g;
const SECTION = /§\s?(\d+(?:\.\d+)*)(?:\s?[–-]\s?§?\s?(\d+(?:\.\d+)*))?/g;

export interface Problem {
  file: string;
  line: number;
  what: string;
}

/** Text that may sit between the parts of one citation: `docs/a.md §1, §2 and §3`. */
const JOIN = /^[\s`,;]*(?:(?:and|or)[\s`]*)?$/;

/**
 * The citation problems of one file. `exists(path)` says whether a repository-relative path
 * exists; `sections(path)` gives the section numbers of an existing doc.
 */
export function checkFile(
  file: string,
  text: string,
  exists: (p: string) => boolean,
  sections: (p: string) => Set<string>,
): Problem[] {
  const problems: Problem[] = [];
  const inDocs = file.startsWith('docs/') && file.endsWith('.md');
  const lineAt = (at: number) => text.slice(0, at).split('\n').length;
  text.split('\n').forEach((raw, i) => {
    for (const o of OUTSIDE) {
      if (raw.includes(o))
        problems.push({ file, line: i + 1, what: `points outside the repo (${o})` });
    }
  });
  // URLs are blanked (same length, so offsets keep their lines).
  const body = text.replace(/\bhttps?:\/\/\S+/g, (u) => ' '.repeat(u.length));
  // Doc mentions and § references in the order they appear.
  type Tok = { at: number; end: number; doc?: string; secs?: string[] };
  const toks: Tok[] = [];
  for (const m of body.matchAll(DOC)) {
    const name = m[1]!;
    const candidates = [
      normalize(name),
      normalize(join(dirname(file), name)),
      ...(name.includes('/') ? [] : [join('docs', name)]),
    ];
    const hit = candidates.find((c) => !c.startsWith('..') && exists(c));
    if (!hit) {
      problems.push({
        file,
        line: lineAt(m.index),
        what: `cites ${name}, which is not in the repo`,
      });
    }
    toks.push({ at: m.index, end: m.index + m[0].length, doc: hit ?? name });
  }
  for (const m of body.matchAll(SECTION)) {
    toks.push({ at: m.index, end: m.index + m[0].length, secs: [m[1]!, ...(m[2] ? [m[2]] : [])] });
  }
  toks.sort((a, b) => a.at - b.at);
  // Source files: a § refers to the last doc cited before it. Docs: to the doc whose
  // citation it continues (only separators in between), else to the doc itself.
  let lastDoc: string | null = null;
  let chainDoc: string | null = null;
  let prevEnd = 0;
  for (const t of toks) {
    const continues = JOIN.test(body.slice(prevEnd, t.at));
    prevEnd = t.end;
    if (t.doc) {
      lastDoc = t.doc;
      chainDoc = t.doc;
      continue;
    }
    if (!continues) chainDoc = null;
    const doc: string | null = inDocs ? (chainDoc ?? file) : lastDoc;
    if (inDocs) chainDoc = doc === file ? null : doc;
    const line = lineAt(t.at);
    if (!doc) {
      problems.push({ file, line, what: `§${t.secs![0]} with no doc cited before it` });
      continue;
    }
    if (!doc.endsWith('.md') || !exists(doc)) continue; // already reported above
    const have = sections(doc);
    for (const sec of t.secs!) {
      if (!have.has(sec)) problems.push({ file, line, what: `${doc} has no §${sec}` });
    }
  }
  return problems;
}

function repoProblems(): Problem[] {
  const exists = (p: string) => existsSync(join(root, p)) && statSync(join(root, p)).isFile();
  const cache = new Map<string, Set<string>>();
  const sections = (p: string) => {
    let s = cache.get(p);
    if (!s) {
      s = sectionsOf(readFileSync(join(root, p), 'utf8'));
      cache.set(p, s);
    }
    return s;
  };
  return citingFiles().flatMap((f) =>
    checkFile(f, readFileSync(join(root, f), 'utf8'), exists, sections),
  );
}

const fmt = (ps: Problem[]) => ps.map((p) => `${p.file}:${p.line}: ${p.what}`);

describe('documentation citations resolve inside the repository', () => {
  it('every cited doc exists and has every cited §section; nothing points to the shared dir', () => {
    assert.deepEqual(fmt(repoProblems()), []);
  });

  it('the four docs and the LICENSE exist', () => {
    for (const f of [
      'docs/architecture.md',
      'docs/driver-rules.md',
      'docs/protocol.md',
      'docs/extending.md',
      'LICENSE',
    ]) {
      assert.ok(existsSync(join(root, f)), `${f} is missing`);
    }
  });

  it('the checker catches a missing doc, a missing section, a stray § and an outside path', () => {
    const docs = new Map([['docs/a.md', new Set(['1', '2', '2.1'])]]);
    const exists = (p: string) => docs.has(p);
    const sections = (p: string) => docs.get(p) ?? new Set<string>();
    const check = (file: string, text: string) =>
      checkFile(file, text, exists, sections).map((p) => p.what);
    assert.deepEqual(check('src/x.ts', '// see docs/a.md §2.1 and §1–§2'), []);
    assert.deepEqual(check('src/x.ts', '// a.md §2'), []);
    assert.deepEqual(check('src/x.ts', '// docs/a.md §3'), ['docs/a.md has no §3']);
    assert.deepEqual(check('src/x.ts', '// docs/a.md §1–4'), ['docs/a.md has no §4']);
    assert.deepEqual(check('src/x.ts', '// docs/b.md'), [
      'cites docs/b.md, which is not in the repo',
    ]);
    assert.deepEqual(check('src/x.ts', '// §2'), ['§2 with no doc cited before it']);
    assert.deepEqual(check('docs/a.md', 'see §2.1'), []);
    assert.deepEqual(check('docs/a.md', 'see §9'), ['docs/a.md has no §9']);
    // In a doc, a § continuing another doc's citation (even across a line) is that doc's;
    // after other words it is the doc's own.
    docs.set('docs/b.md', new Set(['7']));
    assert.deepEqual(check('docs/a.md', '(`docs/b.md §7`,\n  §7) and here §2.1'), []);
    assert.deepEqual(check('docs/a.md', '`docs/b.md §7`. Also §7'), ['docs/a.md has no §7']);
    assert.deepEqual(check('src/x.ts', '// https://example.org/x.md'), []);
    assert.deepEqual(check('src/x.ts', `// ${OUTSIDE[0]}/notes.md`), [
      `points outside the repo (${OUTSIDE[0]})`,
      `cites ${OUTSIDE[0]}/notes.md, which is not in the repo`,
    ]);
    assert.deepEqual(check('src/x.ts', `// ${OUTSIDE[1]}/docs/a.md`), [
      `points outside the repo (${OUTSIDE[1]})`,
      'points outside the repo (shared/docs)',
      `cites ${OUTSIDE[1]}/docs/a.md, which is not in the repo`,
    ]);
  });

  it('section numbers come from numbered headings only', () => {
    const s = sectionsOf(
      '# Title\n## 1. One\n### 1.2 Sub\ntext 3. no\n## Appendix\n#### 10) Ten\n',
    );
    assert.deepEqual([...s].sort(), ['1', '1.2', '10']);
  });
});
