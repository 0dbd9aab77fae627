// The layering rules (docs/architecture.md, "Layers"): which folder may import which, read from the import
// statements of every source file. A rule broken, a bare package in src/ that is not portable, or a cycle
// between folders fails with the file and the import that did it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fromRoot } from '../support/paths.js';

/** What each folder may import besides itself. test/ may import anything; nothing imports test/ or bench/ but themselves and bench. */
const RULES: Readonly<Record<string, readonly string[]>> = {
  // The portable core: only itself (and PORTABLE_PACKAGES): it runs on Node, XS and the M7 through src/ports.
  src: [],
  // The ECMA-419 adapters (the Moddable SDK host): the manifest's modules.
  'hosts/moddable': ['src'],
  // xsrun and the M7 image implement ECMA-419's module surface in C and reuse the adapters.
  'hosts/xs': ['src', 'hosts/moddable', 'hosts/script-tools.mjs'],
  'hosts/cortex-m': ['src', 'hosts/moddable', 'hosts/xs', 'hosts/script-tools.mjs'],
  // The Node host, and the device CLI that launches the image on QEMU (hosts/node/cortex-m-cli.ts).
  'hosts/node': ['src', 'hosts/cortex-m'],
  // The browser host: the core on DOM and WebAudio ports; the emulator serves it, nothing imports it.
  'hosts/browser': ['src'],
  // The emulator's harness (console, demo) runs on the Node host; its AIS service (emulator/ais/) is held to
  // the wire constants of src/ais/topics.ts by test/emulator/oracle-independence.test.ts.
  emulator: ['src', 'hosts/node'],
  bench: ['src', 'hosts/node', 'hosts/moddable', 'hosts/xs', 'hosts/cortex-m', 'emulator', 'test'],
  test: ['src', 'hosts/node', 'hosts/moddable', 'hosts/xs', 'hosts/cortex-m', 'hosts/script-tools.mjs', 'emulator'],
};

/** npm packages src/ may import: pure JavaScript that runs on XS. */
const PORTABLE_PACKAGES = ['@noble/ciphers', '@noble/hashes', 'tweetnacl'];

const SCANNED = ['src', 'hosts', 'emulator', 'test', 'bench'];
const SKIPPED = new Set(['node_modules', 'build', 'libopus', 'fixtures']);

/** The folder a repository path belongs to (`hosts/<name>` for hosts; build/src is src's output). */
function layerOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] === 'build') return layerOf(parts.slice(1).join('/'));
  if (parts[0] === 'hosts') return parts.length > 1 ? `hosts/${parts[1]}` : 'hosts';
  return parts[0];
}

/** The module specifiers a source text imports: static, re-exports, side-effect and literal dynamic imports. */
function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specifiers: string[] = [];
  const pattern = /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (let match = pattern.exec(code); match; match = pattern.exec(code)) specifiers.push(match[1] ?? match[2]);
  return specifiers;
}

/** Every broken rule and every cycle between folders in `files` (repository path → source text). */
function violations(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const edges = new Map<string, Set<string>>();
  for (const [path, source] of files) {
    const from = layerOf(path);
    const allowed = RULES[from];
    if (!allowed) continue;
    for (const specifier of importsOf(source)) {
      if (!specifier.startsWith('.')) {
        const bare = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
        if (from === 'src' && !PORTABLE_PACKAGES.includes(bare)) problems.push(`${path}: imports ${specifier}, not a portable package (${PORTABLE_PACKAGES.join(', ')})`);
        continue;
      }
      const target = normalize(join(dirname(path), specifier));
      // A path into node_modules is a package reached by its file (hosts/moddable/tweetnacl.ts's types): judged as one.
      if (target.startsWith('node_modules/')) {
        const bare = target.split('/').slice(1, target.split('/')[1].startsWith('@') ? 3 : 2).join('/');
        if (from === 'src' && !PORTABLE_PACKAGES.includes(bare)) problems.push(`${path}: imports ${specifier}, not a portable package (${PORTABLE_PACKAGES.join(', ')})`);
        continue;
      }
      if (target.startsWith('..')) {
        problems.push(`${path}: imports ${specifier}, outside the repository`);
        continue;
      }
      const to = layerOf(target);
      if (to === from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
      if (!allowed.includes(to)) problems.push(`${path}: imports ${specifier}; ${from} may import ${allowed.length ? allowed.join(', ') : 'only itself'}`);
    }
  }
  problems.push(...cycles(edges));
  return problems;
}

function cycles(edges: Map<string, Set<string>>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') found.push(`cycle: ${[...stack.slice(stack.indexOf(next)), next].join(' → ')}`);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(fromRoot(dir)).flatMap((name) => {
    const path = join(dir, name);
    if (SKIPPED.has(name)) return [];
    if (statSync(fromRoot(path)).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|mjs|js)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

test('every import in the repository follows the layering rules, and no two folders import each other', () => {
  const files = new Map(SCANNED.flatMap(sourceFiles).map((path) => [relative('.', path), readFileSync(fromRoot(path), 'utf8')] as const));
  assert.ok(files.size > 200, `expected the whole tree, found ${files.size} files`);
  assert.deepEqual(violations(files), []);
});

test('the layering check catches a forbidden import, a non-portable package in src/ and a cycle (fixtures)', () => {
  const fixture = new Map([
    ['src/ais/thing.ts', "import { NodeClock } from '../../hosts/node/clock.js';\nimport type { X } from './x.js';"],
    ['src/mqtt/net.ts', "import { connect } from 'mqtt';\nimport { sha256 } from '@noble/hashes/sha2.js';"],
    ['hosts/node/cli.ts', "export { cloud } from '../../emulator/cloud.js';"],
    ['emulator/demo.ts', "const m = await import('../hosts/node/ports.js');"],
    ['hosts/moddable/fine.ts', "// import '../node/ignored.js' in a comment is not an import\nimport '../../src/ports/log.js';"],
  ]);
  assert.deepEqual(violations(fixture), [
    'src/ais/thing.ts: imports ../../hosts/node/clock.js; src may import only itself',
    'src/mqtt/net.ts: imports mqtt, not a portable package (@noble/ciphers, @noble/hashes, tweetnacl)',
    'hosts/node/cli.ts: imports ../../emulator/cloud.js; hosts/node may import src, hosts/cortex-m',
    'cycle: emulator → hosts/node → emulator',
  ]);
});

test('imports are read from every form: static, type-only, re-export, side-effect and literal dynamic import', () => {
  assert.deepEqual(importsOf([
    "import a from './a.js';", "import type { B } from './b.js';", "import { c,\n  d } from './cd.js';",
    "export * from './e.js';", "import './f.js';", "const g = await import('./g.js');", "// import './no.js';",
  ].join('\n')), ['./a.js', './b.js', './cd.js', './e.js', './f.js', './g.js']);
});
