import { Worker } from 'node:worker_threads';

/** Compares a password with a bcrypt hash: true when they match. */
export type BcryptCompare = (password: string, hash: string) => Promise<boolean>;

export interface BcryptGateOptions {
  /** How many comparisons run at once. One keeps a core of a two-core machine for the event loop. */
  readonly concurrency?: number;
  /** How many comparisons may wait for a turn; beyond that, `compare` refuses at once. */
  readonly maxWaiting?: number;
  /** The comparison itself; by default it runs on worker threads (see `BcryptWorkers`). Tests pass a counting one. */
  readonly compare?: BcryptCompare;
}

/**
 * Admits bcrypt comparisons a few at a time, with a bounded queue. A wrong password costs tens of milliseconds of
 * CPU by design, so without a bound a flood of them grows the queue (and every new credential's wait) without end.
 * With one, a flood gets refusals at once, and a new credential waits at most the queue's length of runs.
 */
export class BcryptGate {
  private readonly concurrency: number;
  private readonly maxWaiting: number;
  private readonly comparison: BcryptCompare;
  private readonly workers: BcryptWorkers | undefined;
  private running = 0;
  /** Comparisons waiting for a turn, first come first served; each is handed a running one's turn as it ends. */
  private readonly waiting: Array<() => void> = [];

  constructor(options: BcryptGateOptions = {}) {
    this.concurrency = integerAtLeast(1, 'concurrency', options.concurrency ?? 1);
    this.maxWaiting = integerAtLeast(0, 'maxWaiting', options.maxWaiting ?? 32);
    if (options.compare !== undefined) {
      this.comparison = options.compare;
    } else {
      const workers = new BcryptWorkers();
      this.workers = workers;
      this.comparison = (password, hash) => workers.compare(password, hash);
    }
  }

  /** The comparison's answer, or undefined at once when `maxWaiting` comparisons are waiting already. */
  compare(password: string, hash: string): Promise<boolean> | undefined {
    if (this.running < this.concurrency) {
      this.running += 1;
      return this.runHoldingTurn(password, hash);
    }
    if (this.waiting.length >= this.maxWaiting) return undefined;
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.runHoldingTurn(password, hash));
  }

  /** Stops the worker threads, if this gate started any. */
  close(): Promise<void> {
    return this.workers?.close() ?? Promise.resolve();
  }

  private async runHoldingTurn(password: string, hash: string): Promise<boolean> {
    try {
      return await this.comparison(password, hash);
    } finally {
      // The turn passes straight to the next in line, so the count stays exact by construction rather than by
      // the order in which promise callbacks happen to run.
      const next = this.waiting.shift();
      if (next === undefined) this.running -= 1;
      else next();
    }
  }
}

// The worker's whole program, as a data: URL (always an ES module, whatever flags the process runs with): on
// Node 20 a worker thread cannot load TypeScript under tsx (the loader hooks of --import do not reach it), and
// this is all it does. bcryptjs is resolved from this module.
const WORKER_PROGRAM = new URL(`data:text/javascript,${encodeURIComponent(`
import { parentPort, workerData } from 'node:worker_threads';
const { compareSync } = await import(workerData);
parentPort.on('message', ({ password, hash }) => {
  try {
    parentPort.postMessage({ matches: compareSync(password, hash) });
  } catch (error) {
    parentPort.postMessage({ error: String(error) });
  }
});
`)}`);
const BCRYPTJS = import.meta.resolve('bcryptjs');

interface Job {
  resolve(matches: boolean): void;
  reject(error: Error): void;
}

/**
 * bcrypt comparisons on worker threads, one at a time a thread. bcryptjs's own async API does not help here: it
 * yields to the event loop only every 100 ms of work, so a 60-70 ms comparison (cost 10) holds the loop in one
 * piece, and every other request waits behind it. Threads start on first use and do not keep the process alive
 * while idle.
 */
export class BcryptWorkers {
  private readonly idle: Worker[] = [];
  private readonly jobs = new Map<Worker, Job>();

  compare(password: string, hash: string): Promise<boolean> {
    const worker = this.idle.pop() ?? this.start();
    return new Promise<boolean>((resolve, reject) => {
      this.jobs.set(worker, { resolve, reject });
      worker.ref();
      worker.postMessage({ password, hash });
    });
  }

  async close(): Promise<void> {
    const workers = [...this.idle, ...this.jobs.keys()];
    this.idle.length = 0;
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private start(): Worker {
    const worker = new Worker(WORKER_PROGRAM, { workerData: BCRYPTJS });
    worker.on('message', (answer: { matches?: boolean; error?: string }) => {
      const job = this.finish(worker);
      worker.unref();
      this.idle.push(worker);
      if (answer.error === undefined) job?.resolve(answer.matches === true);
      else job?.reject(new Error(`bcrypt: ${answer.error}`));
    });
    // A thread that fails is dropped (a later comparison starts a new one); its comparison fails rather than hang.
    const fail = (error: Error): void => {
      const index = this.idle.indexOf(worker);
      if (index >= 0) this.idle.splice(index, 1);
      this.finish(worker)?.reject(error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`bcrypt worker thread exited (code ${code})`)));
    return worker;
  }

  private finish(worker: Worker): Job | undefined {
    const job = this.jobs.get(worker);
    this.jobs.delete(worker);
    return job;
  }
}

function integerAtLeast(min: number, name: string, value: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer of at least ${min}, got ${value}`);
  return value;
}
