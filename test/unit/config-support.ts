// Helpers for the config and auth unit tests: real files in a temporary directory, a logger whose lines can be read.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Deps } from '../../src/observability/deps.js';

export interface RecordingDeps extends Deps {
  /** Every log line written so far, parsed. */
  readonly lines: Array<Record<string, unknown>>;
}

export function recordingDeps(registry: Registry = new Registry()): RecordingDeps {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), registry, lines };
}

export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'promgate-test-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Waits until `probe` returns true: polls, and fails after a generous bound (file events can be slow on busy CI). */
export async function eventually(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A metric's value in the registry's exposition, for a metric without labels. */
export async function metricValue(registry: Registry, name: string): Promise<number | undefined> {
  const text = await registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}
