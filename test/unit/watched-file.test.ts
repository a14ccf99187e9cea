import assert from 'node:assert/strict';
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { watchFile, watchFiles, type WatchedFile } from '../../src/reload/watched-file.js';
import { err, ok, type Result } from '../../src/result.js';
import { eventually, metricValue, recordingDeps, tempDir, type RecordingDeps } from './config-support.js';

const SUCCESSFUL = 'promgate_config_last_reload_successful';
const TIMESTAMP = 'promgate_config_last_reload_success_timestamp_seconds';

/** A tiny format: the file must read `value: <word>`. */
function parseValue(text: string, file: string): Result<string, string> {
  const match = /^value: (\w+)\n?$/.exec(text);
  return match ? ok(match[1]!) : err(`${file}:1: expected "value: <word>"`);
}

describe('watchFile', () => {
  let dir: { path: string; remove(): Promise<void> };
  const open: WatchedFile<unknown>[] = [];

  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((w) => w.close()));
  });

  async function start(file: string, deps: RecordingDeps, intervalMinutes = 0): Promise<WatchedFile<string>> {
    const watched = await watchFile({ file, intervalMinutes, parse: parseValue, what: 'test file' }, deps);
    if (!watched.ok) assert.fail(watched.error);
    open.push(watched.value);
    return watched.value;
  }

  let count = 0;
  async function freshFile(text: string): Promise<string> {
    const sub = join(dir.path, `case-${++count}`);
    await mkdir(sub);
    const file = join(sub, 'config.yaml');
    await writeFile(file, text);
    return file;
  }

  it('loads the file and sets the reload metrics', async () => {
    const deps = recordingDeps();
    const before = Date.now() / 1000;
    const watched = await start(await freshFile('value: one\n'), deps);
    assert.equal(watched.current(), 'one');
    assert.equal(await metricValue(deps.registry, SUCCESSFUL), 1);
    const timestamp = await metricValue(deps.registry, TIMESTAMP);
    assert.ok(timestamp !== undefined && timestamp >= before - 1 && timestamp <= Date.now() / 1000 + 1, `timestamp ${timestamp}`);
  });

  it('fails to start on a bad or missing file, with the reason', async () => {
    const deps = recordingDeps();
    const badFile = await freshFile('nonsense');
    const bad = await watchFile({ file: badFile, intervalMinutes: 0, parse: parseValue, what: 'test file' }, deps);
    assert.deepEqual(bad.ok ? 'loaded' : bad.error, `${badFile}:1: expected "value: <word>"`);
    const missing = await watchFile({ file: join(dir.path, 'nowhere.yaml'), intervalMinutes: 0, parse: parseValue, what: 'test file' }, deps);
    assert.match(missing.ok ? 'loaded' : missing.error, /^cannot read test file .*nowhere\.yaml: ENOENT/);
  });

  it('refuses a negative or non-numeric interval', async () => {
    const file = await freshFile('value: one\n');
    for (const intervalMinutes of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const watched = await watchFile({ file, intervalMinutes, parse: parseValue, what: 'test file' }, recordingDeps());
      assert.equal(watched.ok, false, String(intervalMinutes));
    }
  });

  it('does not re-read the file when another file in its directory changes', async () => {
    const file = await freshFile('value: one\n');
    let reads = 0;
    const watched = await watchFile({ file, intervalMinutes: 0, parse: (t, f) => { reads++; return parseValue(t, f); }, what: 'test file' }, recordingDeps());
    if (!watched.ok) assert.fail(watched.error);
    open.push(watched.value);
    const readsAtStart = reads;
    const neighbour = join(file, '..', 'gateway.log');
    for (let i = 0; i < 20; i++) await writeFile(neighbour, `line ${i}\n`, { flag: 'a' });
    // Long enough for a debounced reload to have happened, had the neighbour's writes triggered one.
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(reads, readsAtStart);
    await writeFile(file, 'value: two\n');
    await eventually('the change', () => watched.value.current() === 'two');
  });

  it('reloads when the file changes', async () => {
    const file = await freshFile('value: one\n');
    const watched = await start(file, recordingDeps());
    await writeFile(file, 'value: two\n');
    await eventually('the change', () => watched.current() === 'two');
  });

  it('reloads when the file is replaced by a rename, as editors save', async () => {
    const file = await freshFile('value: one\n');
    const watched = await start(file, recordingDeps());
    await writeFile(`${file}.tmp`, 'value: two\n');
    await rename(`${file}.tmp`, file);
    await eventually('the rename', () => watched.current() === 'two');
  });

  it("follows a Kubernetes ConfigMap update: the ..data symlink swapped to a new directory", async () => {
    // The layout kubelet's atomic writer makes: config.yaml -> ..data/config.yaml, ..data -> ..<timestamp>/
    const mount = join(dir.path, 'configmap');
    await mkdir(join(mount, '..2026_01_01_00_00_00.1'), { recursive: true });
    await writeFile(join(mount, '..2026_01_01_00_00_00.1', 'config.yaml'), 'value: one\n');
    await symlink('..2026_01_01_00_00_00.1', join(mount, '..data'));
    await symlink(join('..data', 'config.yaml'), join(mount, 'config.yaml'));
    const watched = await start(join(mount, 'config.yaml'), recordingDeps());
    assert.equal(watched.current(), 'one');

    // Each update: a new timestamped directory, a ..data_tmp symlink to it renamed over ..data, the old one removed.
    const versions = ['..2026_01_01_00_00_00.1', '..2026_01_01_00_01_00.2', '..2026_01_01_00_02_00.3', '..2026_01_01_00_03_00.4'];
    for (const [index, value] of ['two', 'three', 'four'].entries()) {
      const [old, next] = [versions[index]!, versions[index + 1]!];
      await mkdir(join(mount, next));
      await writeFile(join(mount, next, 'config.yaml'), `value: ${value}\n`);
      await symlink(next, join(mount, '..data_tmp'));
      await rename(join(mount, '..data_tmp'), join(mount, '..data'));
      await rm(join(mount, old), { recursive: true });
      await eventually(`the ..data swap to ${value}`, () => watched.current() === value);
    }
  });

  it('reads the file even while its directory never goes quiet', async () => {
    const file = await freshFile('value: one\n');
    const watched = await start(file, recordingDeps());
    let n = 0;
    const busy = setInterval(() => void writeFile(join(file, '..', 'busy.log'), `line ${++n}\n`), 50);
    try {
      await writeFile(file, 'value: two\n');
      await eventually('the change amid the noise', () => watched.current() === 'two');
    } finally {
      clearInterval(busy);
    }
  });

  it('keeps the last good value when the file turns bad, logs why, and recovers', async () => {
    const deps = recordingDeps();
    const file = await freshFile('value: one\n');
    const watched = await start(file, deps);
    const goodTimestamp = await metricValue(deps.registry, TIMESTAMP);

    await writeFile(file, 'value: not valid\n');
    await eventually('the rejection', async () => (await metricValue(deps.registry, SUCCESSFUL)) === 0);
    assert.equal(watched.current(), 'one');
    assert.equal(await metricValue(deps.registry, TIMESTAMP), goodTimestamp);
    const rejection = deps.lines.find((line) => line.level === 50);
    assert.ok(rejection, 'an error line');
    assert.match(String(rejection.msg), /test file rejected, still serving the last good one: .*config\.yaml:1: expected "value: <word>"/);
    assert.equal(rejection.file, file);

    await writeFile(file, 'value: three\n');
    await eventually('the recovery', () => watched.current() === 'three');
    assert.equal(await metricValue(deps.registry, SUCCESSFUL), 1);
    assert.ok((await metricValue(deps.registry, TIMESTAMP))! > goodTimestamp!);
  });

  it('keeps the last good value when the file disappears', async () => {
    const deps = recordingDeps();
    const file = await freshFile('value: one\n');
    const watched = await start(file, deps);
    await rm(file);
    assert.equal(await watched.reload(), false);
    assert.equal(watched.current(), 'one');
    assert.equal(await metricValue(deps.registry, SUCCESSFUL), 0);
  });

  it('treats a parser that throws as a rejection', async () => {
    const deps = recordingDeps();
    const file = await freshFile('value: one\n');
    let explode = false;
    const watched = await watchFile(
      {
        file,
        intervalMinutes: 0,
        what: 'test file',
        parse: (text, name) => {
          if (explode) throw new Error('boom');
          return parseValue(text, name);
        },
      },
      deps,
    );
    assert.ok(watched.ok);
    open.push(watched.value);
    explode = true;
    await writeFile(file, 'value: two\n');
    assert.equal(await watched.value.reload(), false);
    assert.equal(watched.value.current(), 'one');
  });

  it('reloads on SIGHUP', async () => {
    const deps = recordingDeps();
    const file = await freshFile('value: one\n');
    await start(file, deps);
    const first = (await metricValue(deps.registry, TIMESTAMP))!;
    // Unchanged text, so no file event: only SIGHUP can move the timestamp.
    await eventually('the clock to move', () => Date.now() / 1000 > first);
    process.kill(process.pid, 'SIGHUP');
    await eventually('the SIGHUP reload', async () => (await metricValue(deps.registry, TIMESTAMP))! > first);
  });

  it('re-reads on the interval', async () => {
    const deps = recordingDeps();
    const file = await freshFile('value: one\n');
    // A fraction of a minute (60 ms), so the test need not wait for a real one.
    await start(file, deps, 0.001);
    const first = (await metricValue(deps.registry, TIMESTAMP))!;
    await eventually('an interval reload', async () => (await metricValue(deps.registry, TIMESTAMP))! > first);
  });

  it('stops watching when closed, and lets go of SIGHUP', async () => {
    const listeners = process.listenerCount('SIGHUP');
    const file = await freshFile('value: one\n');
    const watched = await start(file, recordingDeps());
    assert.equal(process.listenerCount('SIGHUP'), listeners + 1);
    await watched.close();
    assert.equal(process.listenerCount('SIGHUP'), listeners);
    assert.equal(await watched.reload(), false);
    assert.equal(watched.current(), 'one');
  });

  it('shares one pair of metrics among the files on a registry: successful only if every file is', async () => {
    const registry = new Registry();
    const goodFile = await freshFile('value: one\n');
    const otherFile = await freshFile('value: one\n');
    await start(goodFile, recordingDeps(registry));
    const other = await start(otherFile, recordingDeps(registry));
    assert.equal(await metricValue(registry, SUCCESSFUL), 1);
    await writeFile(otherFile, 'bad');
    assert.equal(await other.reload(), false);
    assert.equal(await metricValue(registry, SUCCESSFUL), 0);
    await other.close();
    assert.equal(await metricValue(registry, SUCCESSFUL), 1, 'the closed file no longer counts');
  });
});

describe('watchFiles', () => {
  let dir: { path: string; remove(): Promise<void> };
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
  });

  /** Two files that must agree (a certificate and its key, say): both read `value: <word>` with the same word. */
  const parsePair = ([a, b]: readonly string[]): Result<string, string> => {
    const [x, y] = [parseValue(a!, 'a'), parseValue(b!, 'b')];
    if (!x.ok) return x;
    if (!y.ok) return y;
    return x.value === y.value ? ok(x.value) : err(`a says ${x.value}, b says ${y.value}`);
  };

  it('reads the files together, tells listeners of each new value, and counts in the TLS metrics when asked', async () => {
    const deps = recordingDeps();
    const [a, b] = [join(dir.path, 'a.pem'), join(dir.path, 'b.pem')];
    await writeFile(a, 'value: one\n');
    await writeFile(b, 'value: one\n');
    const watched = await watchFiles({ files: [a, b], intervalMinutes: 0, parse: parsePair, what: 'pair', metrics: 'tls' }, deps);
    if (!watched.ok) assert.fail(watched.error);
    try {
      const seen: string[] = [];
      watched.value.onChange((value) => seen.push(value));
      assert.equal(await metricValue(deps.registry, 'promgate_tls_config_last_reload_successful'), 1);
      assert.equal(await metricValue(deps.registry, SUCCESSFUL), undefined, 'not counted among the configuration files');

      // One file changed alone: the pair disagrees, the last good value stays.
      await writeFile(a, 'value: two\n');
      await eventually('the rejection', async () => (await metricValue(deps.registry, 'promgate_tls_config_last_reload_successful')) === 0);
      assert.equal(watched.value.current(), 'one');
      assert.deepEqual(seen, []);

      await writeFile(b, 'value: two\n');
      await eventually('the pair', () => watched.value.current() === 'two');
      assert.deepEqual(seen, ['two']);
      assert.equal(await metricValue(deps.registry, 'promgate_tls_config_last_reload_successful'), 1);
      assert.equal(await watched.value.reload(), true);
      assert.deepEqual(seen, ['two'], 'an unchanged reload tells no listener');
    } finally {
      await watched.value.close();
    }
  });
});
