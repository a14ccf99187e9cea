// What the image holds, made without a container engine: the build context that .dockerignore lets through is
// copied, the Dockerfile's build-stage RUN lines run in it (npm ci, npm run build, npm pack), and its install stage's
// RUN line installs the package with production dependencies only into an empty folder that stands for /opt/promgate.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { REPO } from './chart.js';
import { openTempDir } from './pod.js';

const ignoreRules = createRequire(join(REPO, 'helm', 'tools', 'package.json'))('@balena/dockerignore') as () => {
  add(rules: string): { ignores(path: string): boolean };
};

export interface Stage {
  readonly from: string;
  readonly name?: string;
  /** Each RUN instruction, its continuation lines joined. */
  readonly runs: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly user?: string;
}

/** The Dockerfile's stages, as far as this proof reads them. */
export function dockerfileStages(): Stage[] {
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stages: { from: string; name?: string; runs: string[]; entrypoint?: string[]; user?: string }[] = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    const [instruction, ...rest] = line.split(/\s+/);
    const argument = rest.join(' ');
    if (instruction === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(argument)!;
      stages.push({ from: m[1]!, ...(m[2] !== undefined && { name: m[2] }), runs: [] });
    } else if (instruction === 'RUN') stages.at(-1)!.runs.push(argument);
    else if (instruction === 'ENTRYPOINT') stages.at(-1)!.entrypoint = JSON.parse(argument) as string[];
    else if (instruction === 'USER') stages.at(-1)!.user = argument;
  }
  return stages;
}

/** Every file of the repository's folder that the build context gets (Docker reads .dockerignore alone, not git). */
export function contextFiles(): string[] {
  const ignored = ignoreRules().add(readFileSync(join(REPO, '.dockerignore'), 'utf8'));
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(REPO, path);
      if (entry.isDirectory()) {
        if (entry.name !== '.git') walk(path);
      } else if (!ignored.ignores(rel)) out.push(rel);
    }
  };
  walk(REPO);
  return out.sort();
}

export interface BuiltImage {
  /** The folder standing for /opt/promgate. */
  readonly prefix: string;
  /** The entrypoint's script (node's argument), inside `prefix`. */
  readonly cli: string;
  /** The last stage's USER, as a number. */
  readonly user: number;
  readonly context: readonly string[];
}

const run = (command: string, cwd: string) => execFileSync('sh', ['-c', command], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });

export function buildImage(): BuiltImage {
  const stages = dockerfileStages();
  const build = stages.find((s) => s.name === 'build');
  const install = stages.find((s) => s.name === 'install');
  const runtime = stages.at(-1)!;
  if (build === undefined || install === undefined || runtime.entrypoint === undefined) throw new Error('Dockerfile: build and install stages and an ENTRYPOINT expected');

  const context = openTempDir('promgate-context-');
  const files = contextFiles();
  for (const file of files) {
    mkdirSync(dirname(join(context, file)), { recursive: true });
    copyFileSync(join(REPO, file), join(context, file));
  }
  for (const command of build.runs) run(command, context);
  const tarball = join(context, 'promgate.tgz');
  if (!existsSync(tarball)) throw new Error('the build stage made no promgate.tgz');

  const prefix = openTempDir('promgate-opt-');
  const [, script] = runtime.entrypoint;
  for (const command of install.runs) {
    run(command.replaceAll('/opt/promgate', prefix).replaceAll('/tmp/promgate.tgz', tarball), context);
  }
  const cli = script!.replace('/opt/promgate', prefix);
  if (!existsSync(cli)) throw new Error(`the entrypoint's ${script} is not where the install stage put promgate`);
  const user = Number(runtime.user?.split(':')[0]);
  if (!Number.isInteger(user) || user === 0) throw new Error(`the image's USER ${runtime.user} is not a non-root number`);
  return { prefix, cli, user, context: files };
}
