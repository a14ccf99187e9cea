import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tracingSettings } from './tracing.js';

const SRC = fileURLToPath(new URL('..', import.meta.url));
const STATIC_IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm;

describe('tracingSettings: the OTEL_* variables', () => {
  const on = (env: NodeJS.ProcessEnv) => {
    const settings = tracingSettings(env);
    assert.ok(settings.ok, settings.ok ? '' : settings.error);
    return settings.value;
  };

  it('is off without them, and with OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none', () => {
    assert.equal(on({}), undefined);
    assert.equal(on({ OTEL_SERVICE_NAME: 'promgate', OTEL_TRACES_SAMPLER: 'always_on' }), undefined, 'settings alone turn nothing on');
    assert.equal(on({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }), undefined);
    assert.equal(on({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }), undefined);
    assert.equal(on({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }), undefined);
  });

  it('is on with an OTLP endpoint or OTEL_TRACES_EXPORTER=otlp, taking W3C and Jaeger trace context by default', () => {
    assert.deepEqual(on({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })?.propagators, ['tracecontext', 'jaeger']);
    assert.ok(on({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }));
    assert.ok(on({ OTEL_TRACES_EXPORTER: 'otlp' }), "the exporter's default endpoint, localhost:4318");
    assert.deepEqual(on({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_PROPAGATORS: 'tracecontext,baggage' })?.propagators, ['tracecontext', 'baggage']);
    assert.deepEqual(on({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_PROPAGATORS: 'jaeger' })?.propagators, ['jaeger']);
  });

  it('refuses what it cannot do rather than trace otherwise than asked', () => {
    const refused = (env: NodeJS.ProcessEnv, pattern: RegExp) => {
      const settings = tracingSettings(env);
      assert.ok(!settings.ok);
      assert.match(settings.error, pattern);
    };
    refused({ OTEL_TRACES_EXPORTER: 'zipkin' }, /otlp only/);
    refused({ OTEL_TRACES_EXPORTER: 'otlp,console' }, /otlp only/);
    refused({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /over HTTP only/);
    refused({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_PROPAGATORS: 'b3' }, /b3 is not one promgate speaks/);
  });

  it('says so when asked for protobuf, which it sends as JSON', () => {
    assert.match(on({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' })!.warnings.join(), /as JSON/);
    assert.deepEqual(on({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })!.warnings, []);
  });
});

describe('tracing off loads no SDK', () => {
  it('imports OpenTelemetry in tracing/otel.ts alone, which nothing imports but dynamically', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
          const file = relative(SRC, path);
          for (const [, specifier] of readFileSync(path, 'utf8').matchAll(STATIC_IMPORT)) {
            if (specifier!.startsWith('@opentelemetry/') && file !== join('tracing', 'otel.ts')) offenders.push(`${file}: ${specifier}`);
            if (/(^|\/)otel\.js$/.test(specifier!)) offenders.push(`${file}: ${specifier}`);
          }
        }
      }
    };
    walk(SRC);
    assert.deepEqual(offenders, []);
    assert.match(readFileSync(join(SRC, 'tracing', 'tracing.ts'), 'utf8'), /await import\('\.\/otel\.js'\)/);
  });
});
