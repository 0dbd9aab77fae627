import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fromRoot } from '../support/paths.js';

// The portable core must run on XS and on an OEM's MCU: no Node modules, Buffer, process, DOM, nor globals
// bare XS lacks. The compiler already refuses most (src/tsconfig.json has no host types); this scan also
// catches what `any` or a comment-free cast could smuggle in.
const FORBIDDEN: [RegExp, string][] = [
  [/from\s+['"]node:/, 'a node:* import'],
  [/from\s+['"](fs|net|tls|crypto|buffer|http|https|os|path|child_process|events|stream)['"]/, 'a Node built-in import'],
  [/\brequire\s*\(/, 'require()'],
  [/\bBuffer\b/, 'Buffer'],
  [/\bprocess\./, 'process'],
  [/\b(document|window|navigator|localStorage)\./, 'a DOM global'],
  [/\bconsole\./, 'console (log through the Logger port)'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, 'a host timer (use the Clock port)'],
  [/\bnew\s+(TextEncoder|TextDecoder)\b/, 'TextEncoder/TextDecoder (absent on bare XS)'],
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

test('src/ uses no host API: no node:*, Buffer, process, DOM, console or host timers', () => {
  const files = sources(fromRoot('src'));
  assert.ok(files.length > 5, `expected the src/ tree, found ${files.length} files`);
  const hits: string[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '');
      for (const [pattern, what] of FORBIDDEN) {
        if (pattern.test(code)) hits.push(`${relative(fromRoot(), file)}:${i + 1}: ${what}`);
      }
    });
  }
  assert.deepEqual(hits, []);
});

test('the portability scan recognises each forbidden use', () => {
  const samples = ["import x from 'node:fs';", "import net from 'net';", 'const b = Buffer.from([1]);',
    'process.exit(1);', 'document.title = 1;', 'console.log(1);', 'setTimeout(f, 1);', 'new TextEncoder();', "require('x')"];
  for (const sample of samples) {
    assert.ok(FORBIDDEN.some(([p]) => p.test(sample)), `scan misses: ${sample}`);
  }
});

/** Every module specifier `entry` reaches through static imports inside src/ (bare specifiers are leaves). */
function importGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!file.startsWith('/')) return;
    for (const [statement, spec] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
      if (/^(import|export) type\b/.test(statement)) continue; // erased by the compiler: loads nothing
      visit(spec.startsWith('.') ? join(file, '..', spec.replace(/\.js$/, '.ts')) : spec);
    }
  };
  visit(entry);
  return seen;
}

test("an MCU's crypto (compose + key agreement + its native AES-GCM) never loads noble's AES tables (1.3 MB on XS)", () => {
  const graph = importGraph(fromRoot('src', 'crypto', 'compose.ts'));
  assert.ok(graph.has('tweetnacl'), 'the scan follows imports');
  assert.deepEqual([...graph].filter((m) => m.startsWith('@noble/ciphers')), []);
  assert.ok(importGraph(fromRoot('src', 'crypto', 'portable.ts')).has('@noble/ciphers/aes.js'), 'the scan sees noble where it is');
});
