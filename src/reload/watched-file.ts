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

export interface WatchedFile<T> {
  /** The last good value: one immutable object, swapped whole, so a reader never sees half a reload. */
  current(): T;
  /** Re-reads now; true when the file's value is in use, false when it was rejected (the last good one stays). */
  reload(): Promise<boolean>;
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
export async function watchFile<T>(options: WatchFileOptions<T>, deps: Deps): Promise<Result<WatchedFile<T>, string>> {
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
function concernsFile(entry: string, name: string): boolean {
  return entry === name || entry.startsWith('..');
}

interface Loaded<T> {
  readonly text: string;
  readonly value: T;
}

async function load<T>(options: WatchFileOptions<T>): Promise<Result<Loaded<T>, string>> {
  let text: string;
  try {
    text = await readFile(options.file, 'utf8');
  } catch (error) {
    return err(`cannot read ${options.what} ${options.file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const parsed = options.parse(text, options.file);
    return parsed.ok ? ok({ text, value: parsed.value }) : err(parsed.error);
  } catch (error) {
    return err(`${options.file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

class ReloadingFile<T> implements WatchedFile<T> {
  private loaded: Loaded<T>;
  private readonly logger: Deps['logger'];
  private readonly metrics: ReloadMetrics;
  private readonly onSighup = (): void => {
    this.logger.info('SIGHUP: reloading');
    void this.reload();
  };
  private watcher: ReturnType<typeof watch> | undefined;
  private directoryWatcher: FSWatcher | undefined;
  private interval: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private burstStart: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly options: WatchFileOptions<T>,
    deps: Deps,
    first: Loaded<T>,
  ) {
    this.loaded = first;
    this.logger = deps.logger.child({ file: options.file, what: options.what });
    this.metrics = ReloadMetrics.of(deps.registry);
    this.metrics.record(this, true);
  }

  async start(): Promise<void> {
    const { file, what } = this.options;
    const onError = (error: unknown): void => this.logger.warn({ err: error }, `cannot watch the ${what} for changes`);
    // The file itself: chokidar follows a symlinked file to its target and watches anew once it is replaced.
    const watcher = watch(file, { ignoreInitial: true, ignorePermissionErrors: true });
    this.watcher = watcher;
    watcher.on('all', () => this.scheduleReload());
    watcher.on('error', onError);
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    // Its directory too: Kubernetes mounts ConfigMaps and Secrets as symlinks into a `..data` directory that it
    // swaps whole, which changes nothing at the file's own path. Node's own watcher, not chokidar, because this
    // one names the entry that changed before any work is done: chokidar re-reads and stats the whole directory
    // on every event in it, which a log file written beside the users file turns into work on every request.
    const name = basename(file);
    try {
      this.directoryWatcher = watchDirectory(dirname(file), (_event, entry) => {
        // No name (a platform that gives none): the change may be ours.
        if (entry === null || concernsFile(entry, name)) this.scheduleReload();
      });
      this.directoryWatcher.on('error', onError);
    } catch (error) {
      onError(error);
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
    this.directoryWatcher?.close();
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
    const changed = next.value.text !== this.loaded.text;
    // An unchanged text keeps the value already in use, and whatever was derived from it.
    if (changed) this.loaded = next.value;
    this.metrics.record(this, true);
    if (changed) this.logger.info(`${this.options.what} reloaded`);
    else this.logger.debug(`${this.options.what} unchanged`);
    return true;
  }
}

/**
 * promgate_config_last_reload_successful and _success_timestamp_seconds, named like Prometheus's own. One pair
 * per registry (registering a name twice throws), summing up every watched file on it: successful only while
 * the last load of each one succeeded; the timestamp of the latest successful load.
 */
class ReloadMetrics {
  private static readonly byRegistry = new WeakMap<Registry, ReloadMetrics>();
  private readonly files = new Map<object, boolean>();
  private lastSuccessSeconds = 0;
  private readonly update: () => void;

  static of(registry: Registry): ReloadMetrics {
    let metrics = ReloadMetrics.byRegistry.get(registry);
    if (!metrics) {
      metrics = new ReloadMetrics(registry);
      ReloadMetrics.byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  private constructor(registry: Registry) {
    const successful = registered(registry, 'promgate_config_last_reload_successful', (registers) => new Gauge({
      name: 'promgate_config_last_reload_successful',
      help: 'Whether the last reload of every configuration file succeeded (1) or one was rejected (0).',
      registers,
    }));
    const timestamp = registered(registry, 'promgate_config_last_reload_success_timestamp_seconds', (registers) => new Gauge({
      name: 'promgate_config_last_reload_success_timestamp_seconds',
      help: 'Timestamp of the last successful configuration reload.',
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
