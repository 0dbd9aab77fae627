// The XS host's build scripts (hosts/xs/build.mjs, modules.mjs), typed, for the Node code that drives xsrun:
// test/xs/xsrun.test.ts and bench/xs-figures.ts. Node only.
import { pathToFileURL } from 'node:url';
import { fromRoot } from './paths.js';

export interface XsBuild {
  /** What is missing to build xsrun (a C compiler), and the compiler's version line. */
  toolchain(): { missing?: string; version?: string };
  buildXsrun(options?: { quiet?: boolean; targets?: string[]; variables?: Record<string, string> }): Promise<string>;
  xsrunPath: string;
}

export interface XsModules {
  moduleGraph(entries: string[]): { keys: string[]; aliases: Map<string, string> };
  writeMap(path: string, aliases: Map<string, string>): void;
}

export const build = await import(pathToFileURL(fromRoot('hosts', 'xs', 'build.mjs')).href) as XsBuild;
export const modules = await import(pathToFileURL(fromRoot('hosts', 'xs', 'modules.mjs')).href) as XsModules;

/** Runs xsrun with the device's machine settings and `args`, from the repository root: its exit code and all it printed. */
export async function runOnDeviceMachine(args: string[]): Promise<{ code: number | null; output: string }> {
  const { spawn } = await import('node:child_process');
  const { DEVICE_MACHINE } = await import('../../hosts/node/xs-launch.js');
  const child = spawn(build.xsrunPath, [...DEVICE_MACHINE, ...args], { cwd: fromRoot() });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => { output += text; });
  child.stderr.setEncoding('utf8').on('data', (text: string) => { output += text; });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, output };
}
