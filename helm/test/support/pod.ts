// A rendered Deployment's container run here as kubelet would run it, with no cluster: its args and env (Secret
// references resolved), its Secret and ConfigMap volumes laid out as kubelet lays them out (`..data` symlinks) under a
// temporary root at their mount paths, and its security context applied: the user and groups it names, no new
// privileges, no capabilities, and a read-only root filesystem (a private mount namespace where / is remounted
// read-only, so that any write outside the mounted volumes fails). Needs root, as CI and the dev machines have.
// The image's entrypoint is node and promgate's cli.js (see Dockerfile); `cli` is the one to run.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretMount } from '../../../test/support/certificates.js';
import { find, type Doc } from './chart.js';

/** The Dockerfile's USER: what runs when no security context names a user. */
export const IMAGE_USER = 65532;

export interface Confinement {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
  readonly readOnlyRoot: boolean;
}

/** Runs argv in a private mount namespace, / read-only there when asked, as uid:gid with no privileges left. */
export function spawnConfined(argv: readonly string[], env: NodeJS.ProcessEnv, c: Confinement, logFile: string): ChildProcess {
  if (process.getuid?.() !== 0) throw new Error('running a container here needs root (unshare and setpriv)');
  const script = `${c.readOnlyRoot ? 'mount -o remount,bind,ro / && ' : ''}exec "$@"`;
  const setpriv = [
    'setpriv', `--reuid=${c.uid}`, `--regid=${c.gid}`,
    c.groups.length === 0 ? '--clear-groups' : `--groups=${c.groups.join(',')}`,
    '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all', '--',
  ];
  const log = openSync(logFile, 'a');
  return spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', ...setpriv, ...argv], {
    env,
    stdio: ['ignore', log, log],
  });
}

/** A directory others may enter: mkdtemp makes 0700 ones, and the container's user is not root. */
export function openTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

export interface Pod {
  readonly child: ChildProcess;
  /** The container port of a named port. */
  port(name: string): number;
  /** GET on a probe's port and path, from the container's own definition. */
  probe(which: 'livenessProbe' | 'readinessProbe'): Promise<number>;
  /** Swaps new contents into a mounted volume, as kubelet does when its Secret or ConfigMap changes. */
  update(volume: string, files: Readonly<Record<string, string>>): void;
  log(): string;
  logMatching(pattern: RegExp): Promise<string>;
  stop(): Promise<number | null>;
}

export interface PodOptions {
  /** promgate's dist/cli.js, as the image holds it. */
  readonly cli: string;
  /** Secrets and ConfigMaps that exist before the release (existingSecret values): name → key → text. */
  readonly existing?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

const decode = (data: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

/** The keys of a Secret or ConfigMap: rendered with the release, or existing before it. */
function source(docs: readonly Doc[], options: PodOptions, kind: 'Secret' | 'ConfigMap', name: string): Record<string, string> {
  const rendered = docs.find((d) => d.kind === kind && d.metadata?.name === name);
  if (rendered !== undefined) return kind === 'Secret' ? decode(rendered.data) : { ...rendered.data };
  const given = options.existing?.[name];
  if (given === undefined) throw new Error(`the pod needs ${kind} ${name}, which is neither rendered nor given`);
  return { ...given };
}

export async function startPod(docs: readonly Doc[], options: PodOptions): Promise<Pod> {
  const deployment = find(docs, 'Deployment');
  const spec = deployment.spec.template.spec;
  const container = spec.containers[0];
  const root = openTempDir('promgate-pod-');
  const staging = openTempDir('promgate-pod-staging-');
  const mounts = new Map<string, SecretMount>();
  let staged = 0;
  const stage = (files: Record<string, string>): Record<string, string> =>
    Object.fromEntries(Object.entries(files).map(([name, text]) => {
      const file = join(staging, `${++staged}-${name}`);
      writeFileSync(file, text);
      return [name, file];
    }));

  const mountPaths: string[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = spec.volumes.find((v: Doc) => v.name === mount.name);
    const kind = volume.secret !== undefined ? 'Secret' : volume.configMap !== undefined ? 'ConfigMap' : undefined;
    if (kind === undefined || mount.subPath !== undefined) throw new Error(`volume ${mount.name}: only whole Secret and ConfigMap volumes are laid out`);
    const ref = volume.secret ?? volume.configMap;
    const keys = source(docs, options, kind, ref.secretName ?? ref.name);
    const items: { key: string; path: string }[] = ref.items ?? Object.keys(keys).map((key) => ({ key, path: key }));
    const files = Object.fromEntries(items.map(({ key, path }) => {
      if (keys[key] === undefined) throw new Error(`${kind} ${ref.secretName ?? ref.name} has no key ${key}`);
      return [path, keys[key]!];
    }));
    const dir = join(root, mount.mountPath);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    mounts.set(mount.name, new SecretMount(dir, stage(files)));
    mountPaths.push(mount.mountPath);
  }
  // Paths into the mounted volumes move under the temporary root; nothing else changes.
  const relocate = (value: string): string =>
    mountPaths.some((p) => value === p || value.startsWith(`${p}/`)) ? join(root, value) : value;

  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOSTNAME: deployment.metadata.name };
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
    const value = ref === undefined ? e.value : source(docs, options, e.valueFrom.secretKeyRef ? 'Secret' : 'ConfigMap', ref.name)[ref.key];
    if (value === undefined) throw new Error(`env ${e.name} has no value`);
    env[e.name] = relocate(String(value));
  }
  if (container.command !== undefined) throw new Error('the chart overrides the image entrypoint');
  const args = (container.args ?? ['run']).map((a: unknown) => relocate(String(a)));

  const pod = spec.securityContext ?? {};
  const own = container.securityContext ?? {};
  const uid = own.runAsUser ?? pod.runAsUser ?? IMAGE_USER;
  if ((own.runAsNonRoot ?? pod.runAsNonRoot) === true && uid === 0) throw new Error('runAsNonRoot with user 0: kubelet refuses to start it');
  const confinement: Confinement = {
    uid,
    gid: own.runAsGroup ?? pod.runAsGroup ?? IMAGE_USER,
    groups: pod.fsGroup === undefined ? [] : [pod.fsGroup],
    readOnlyRoot: own.readOnlyRootFilesystem === true,
  };
  const logFile = join(staging, 'container.log');
  writeFileSync(logFile, '');
  const child = spawnConfined([process.execPath, options.cli, ...args], env, confinement, logFile);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const ports = new Map<string, number>((container.ports ?? []).map((p: Doc) => [p.name, p.containerPort]));
  const port = (name: string): number => {
    const p = ports.get(name);
    if (p === undefined) throw new Error(`the container has no port named ${name}`);
    return p;
  };
  const probe = async (which: 'livenessProbe' | 'readinessProbe'): Promise<number> => {
    const get = container[which].httpGet;
    const p = typeof get.port === 'number' ? get.port : port(get.port);
    return (await fetch(`http://127.0.0.1:${p}${get.path}`)).status;
  };
  const log = () => readFileSync(logFile, 'utf8');
  const result: Pod = {
    child,
    port,
    probe,
    update: (volume, files) => mounts.get(volume)!.update(stage({ ...files })),
    log,
    logMatching: async (pattern) => {
      for (let i = 0; i < 250; i++) {
        if (pattern.test(log())) return log();
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no log line matches ${pattern}:\n${log().slice(-3000)}`);
    },
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  // Ready as kubelet sees it: the readiness probe answers 200.
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    if ((await probe('readinessProbe').catch(() => 0)) === 200) return result;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`the container did not become ready:\n${log().slice(-3000)}`);
}
