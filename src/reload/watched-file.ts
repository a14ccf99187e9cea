import { watch as watchDirectory, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { watch } from 'chokidar';
import { Gauge, type Registry } from 'prom-client';
import type { Deps } from '../observability/deps.js';
import { registered } from '../observability/metrics.js';
import { err, ok, type Result } from '../result.js';

export interface WatchFileOptions<T> {
  readonly file: string;
  /** Re-read this often even without a change event; 0 turns the timer off. */
  readonly intervalMinutes: number;
  /** Turns the text into the value, or says why it cannot (the message should name the file and line). */
  parse(text: string, file: string): Result<T, string>;
  /** What the file is, for logs: "users file", "JWKS file". */
  readonly what: string;
}

/** Files read together into one value, such as a certificate and its key: a change to any of them reads them all. */
export interface WatchFilesOptions<T> {
  readonly files: readonly string[];
  readonly intervalMinutes: number;
  /** The files' texts, in the order of `files`, into the value. */
  parse(texts: readonly string[]): Result<T, string>;
  readonly what: string;
  /** The reload metrics the outcome counts in: the configuration's (the default), or TLS material's. */
  readonly metrics?: ReloadMetricsKind;
}

export type ReloadMetricsKind = 'config' | 'tls';

export interface WatchedFile<T> {
  /** The last good value: one immutable object, swapped whole, so a reader never sees half a reload. */
  current(): T;
  /** Re-reads now; true when the file's value is in use, false when it was rejected (the last good one stays). */
  reload(): Promise<boolean>;
  /** Calls `listener` with each new value as it comes into use (not for an unchanged or a rejected file). */
  onChange(listener: (value: T) => void): void;
  close(): Promise<void>;
}

// Editors and Kubernetes' ..data symlink swaps make bursts of events; one read after the burst is enough. A busy
// directory must not put the read off for ever, though.
const DEBOUNCE_MS = 200;
const MAX_DEBOUNCE_MS = 2_000;
// setInterval takes at most 2^31-1 ms and fires at once beyond it.
const MAX_INTERVAL_MS = 2 ** 31 - 1;

/**
 * A file whose value is kept current: re-read on the interval, on change and on SIGHUP. A file that cannot be
 * read or parsed keeps the last good value in use, and says why in the log and in
 * promgate_config_last_reload_successful. The first load must succeed.
 */
export function watchFile<T>(options: WatchFileOptions<T>, deps: Deps): Promise<Result<WatchedFile<T>, string>> {
  const { file, intervalMinutes, what } = options;
  return watchFiles({ files: [file], intervalMinutes, what, parse: ([text]) => options.parse(text!, file) }, deps);
}

/** Several files kept current as one value, as `watchFile` keeps one. */
export async function watchFiles<T>(options: WatchFilesOptions<T>, deps: Deps): Promise<Result<WatchedFile<T>, string>> {
  if (!(options.intervalMinutes >= 0) || !Number.isFinite(options.intervalMinutes)) {
    return err(`${options.what} reload interval must be a number of minutes, 0 or more; got ${options.intervalMinutes}`);
  }
  const first = await load(options);
  if (!first.ok) return err(first.error);
  const watched = new ReloadingFile(options, deps, first.value);
  await watched.start();
  return ok(watched);
}

/**
 * Whether a change to an entry of the file's directory can change the file: its own name, or one of the
 * `..`-prefixed entries Kubernetes swaps (`..data`, `..data_tmp`, `..2024_01_01...`). Anything else there, a log
 * file say, is not ours to react to: reacting would re-read the file on every log line.
 */
function concernsFile(entry: string, names: ReadonlySet<string>): boolean {
  return names.has(entry) || entry.startsWith('..');
}

interface Loaded<T> {
  readonly texts: readonly string[];
  readonly value: T;
}

async function load<T>(options: WatchFilesOptions<T>): Promise<Result<Loaded<T>, string>> {
  const texts: string[] = [];
  for (const file of options.files) {
    try {
      texts.push(await readFile(file, 'utf8'));
    } catch (error) {
      return err(`cannot read ${options.what} ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  try {
    const parsed = options.parse(texts);
    return parsed.ok ? ok({ texts, value: parsed.value }) : err(parsed.error);
  } catch (error) {
    return err(`${options.files.join(', ')}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const sameTexts = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((text, i) => text === b[i]);

class ReloadingFile<T> implements WatchedFile<T> {
  private loaded: Loaded<T>;
  private readonly logger: Deps['logger'];
  private readonly metrics: ReloadMetrics;
  private readonly onSighup = (): void => {
    this.logger.info('SIGHUP: reloading');
    void this.reload();
  };
  private watcher: ReturnType<typeof watch> | undefined;
  private readonly directoryWatchers: FSWatcher[] = [];
  private readonly listeners: Array<(value: T) => void> = [];
  private interval: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private burstStart: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly options: WatchFilesOptions<T>,
    deps: Deps,
    first: Loaded<T>,
  ) {
    this.loaded = first;
    this.logger = deps.logger.child({ file: options.files.join(', '), what: options.what });
    this.metrics = ReloadMetrics.of(deps.registry, options.metrics ?? 'config');
    this.metrics.record(this, true);
  }

  async start(): Promise<void> {
    const { files, what } = this.options;
    const onError = (error: unknown): void => this.logger.warn({ err: error }, `cannot watch the ${what} for changes`);
    // The files themselves: chokidar follows a symlinked file to its target and watches anew once it is replaced.
    const watcher = watch([...files], { ignoreInitial: true, ignorePermissionErrors: true });
    this.watcher = watcher;
    watcher.on('all', () => this.scheduleReload());
    watcher.on('error', onError);
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    // Their directories too: Kubernetes mounts ConfigMaps and Secrets as symlinks into a `..data` directory that it
    // swaps whole, which changes nothing at the file's own path. Node's own watcher, not chokidar, because this
    // one names the entry that changed before any work is done: chokidar re-reads and stats the whole directory
    // on every event in it, which a log file written beside the users file turns into work on every request.
    const namesByDirectory = new Map<string, Set<string>>();
    for (const file of files) {
      const names = namesByDirectory.get(dirname(file)) ?? new Set<string>();
      names.add(basename(file));
      namesByDirectory.set(dirname(file), names);
    }
    for (const [directory, names] of namesByDirectory) {
      try {
        const directoryWatcher = watchDirectory(directory, (_event, entry) => {
          // No name (a platform that gives none): the change may be ours.
          if (entry === null || concernsFile(entry, names)) this.scheduleReload();
        });
        directoryWatcher.on('error', onError);
        this.directoryWatchers.push(directoryWatcher);
      } catch (error) {
        onError(error);
      }
    }
    if (this.options.intervalMinutes > 0) {
      const every = Math.min(this.options.intervalMinutes * 60_000, MAX_INTERVAL_MS);
      this.interval = setInterval(() => void this.reload(), every);
      this.interval.unref();
    }
    process.on('SIGHUP', this.onSighup);
  }

  current(): T {
    return this.loaded.value;
  }

  onChange(listener: (value: T) => void): void {
    this.listeners.push(listener);
  }

  reload(): Promise<boolean> {
    // One reload at a time, in order, so that an older read never replaces a newer one.
    const run = this.queue.then(() => this.reloadNow());
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    process.off('SIGHUP', this.onSighup);
    clearInterval(this.interval);
    clearTimeout(this.debounce);
    for (const directoryWatcher of this.directoryWatchers) directoryWatcher.close();
    await this.watcher?.close();
    await this.queue;
    this.metrics.forget(this);
  }

  private scheduleReload(): void {
    if (this.closed) return;
    const now = Date.now();
    this.burstStart ??= now;
    clearTimeout(this.debounce);
    const wait = Math.max(0, Math.min(DEBOUNCE_MS, this.burstStart + MAX_DEBOUNCE_MS - now));
    this.debounce = setTimeout(() => {
      this.burstStart = undefined;
      void this.reload();
    }, wait);
  }

  private async reloadNow(): Promise<boolean> {
    if (this.closed) return false;
    const next = await load(this.options);
    if (this.closed) return false;
    if (!next.ok) {
      this.metrics.record(this, false);
      this.logger.error({ reason: next.error }, `${this.options.what} rejected, still serving the last good one: ${next.error}`);
      return false;
    }
    const changed = !sameTexts(next.value.texts, this.loaded.texts);
    // An unchanged text keeps the value already in use, and whatever was derived from it.
    if (changed) this.loaded = next.value;
    this.metrics.record(this, true);
    if (!changed) {
      this.logger.debug(`${this.options.what} unchanged`);
      return true;
    }
    this.logger.info(`${this.options.what} reloaded`);
    for (const listener of this.listeners) {
      try {
        listener(next.value.value);
      } catch (error) {
        this.logger.error({ err: error }, `applying the reloaded ${this.options.what} failed`);
      }
    }
    return true;
  }
}

const RELOAD_METRICS: Readonly<Record<ReloadMetricsKind, { prefix: string; what: string }>> = {
  config: { prefix: 'promgate_config', what: 'configuration file' },
  tls: { prefix: 'promgate_tls_config', what: 'TLS certificate, key and CA file' },
};

/**
 * promgate_config_last_reload_successful and _success_timestamp_seconds, named like Prometheus's own (and their
 * promgate_tls_config_ twins for TLS material). One pair per registry and kind (registering a name twice throws),
 * summing up every watched file on it: successful only while the last load of each one succeeded; the timestamp
 * of the latest successful load.
 */
class ReloadMetrics {
  private static readonly byRegistry = new WeakMap<Registry, Map<ReloadMetricsKind, ReloadMetrics>>();
  private readonly files = new Map<object, boolean>();
  private lastSuccessSeconds = 0;
  private readonly update: () => void;

  static of(registry: Registry, kind: ReloadMetricsKind): ReloadMetrics {
    let kinds = ReloadMetrics.byRegistry.get(registry);
    if (!kinds) {
      kinds = new Map();
      ReloadMetrics.byRegistry.set(registry, kinds);
    }
    let metrics = kinds.get(kind);
    if (!metrics) {
      metrics = new ReloadMetrics(registry, kind);
      kinds.set(kind, metrics);
    }
    return metrics;
  }

  private constructor(registry: Registry, kind: ReloadMetricsKind) {
    const { prefix, what } = RELOAD_METRICS[kind];
    const successful = registered(registry, `${prefix}_last_reload_successful`, (registers) => new Gauge({
      name: `${prefix}_last_reload_successful`,
      help: `Whether the last reload of every ${what} succeeded (1) or one was rejected (0).`,
      registers,
    }));
    const timestamp = registered(registry, `${prefix}_last_reload_success_timestamp_seconds`, (registers) => new Gauge({
      name: `${prefix}_last_reload_success_timestamp_seconds`,
      help: `Timestamp of the last successful reload of a ${what}.`,
      registers,
    }));
    this.update = () => {
      successful.set([...this.files.values()].every(Boolean) ? 1 : 0);
      timestamp.set(this.lastSuccessSeconds);
    };
  }

  record(file: object, succeeded: boolean): void {
    this.files.set(file, succeeded);
    if (succeeded) this.lastSuccessSeconds = Date.now() / 1000;
    this.update();
  }

  forget(file: object): void {
    this.files.delete(file);
    this.update();
  }
}
