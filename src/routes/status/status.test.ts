import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enforceSelector } from 'promql-parser-wasm';
import { A, sent } from '../../../test/support/routes.js';

describe('routes that read no series', () => {
  it('leave format_query and parse_query expressions alone', () => {
    assert.deepEqual(sent('/api/v1/format_query', [['query', 'up + 1']]), [['query', 'up + 1']]);
    assert.deepEqual(sent('/api/v1/parse_query', [['query', 'sum(']]), [['query', 'sum(']]);
  });

  it('still enforce a match[], so that none goes out unenforced', () => {
    assert.deepEqual(sent('/api/v1/status/buildinfo', [['match[]', 'up']]), [['match[]', enforceSelector('up', A)]]);
  });
});
