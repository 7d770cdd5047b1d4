import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { completeness, hostState } from '../../src/health/liveness.ts'

describe('host liveness', () => {
  it('a host heard from within two intervals should be up', () => {
    assert.equal(hostState(0, 10_000), 'up')
    assert.equal(hostState(25, 10_000), 'up')
  })

  it('a host silent for more than two intervals should be late, then down after ten', () => {
    assert.equal(hostState(26, 10_000), 'late')
    assert.equal(hostState(105, 10_000), 'late')
    assert.equal(hostState(106, 10_000), 'down')
  })

  it('thresholds should scale with the interval', () => {
    assert.equal(hostState(100, 60_000), 'up')
    assert.equal(hostState(100, 1_000), 'down')
  })

  it('completeness should be stored over expected, and whole when nothing was expected', () => {
    assert.equal(completeness(9, 10), 0.9)
    assert.equal(completeness(0, 0), 1)
    assert.equal(completeness(12, 10), 1)
  })
})
