import assert from 'node:assert/strict'
import { after, afterEach, before, describe, it } from 'node:test'
import { quietInTerminal } from '../../src/cli/args.ts'
import { loadSettings } from '../../src/config/index.ts'
import { rootLogger, setLogLevel } from '../../src/log.ts'

describe('log level of commands that print for a person', () => {
  const envLevel = process.env.VITALS_LOG_LEVEL
  const defaults = loadSettings({ env: {} })
  before(() => { delete process.env.VITALS_LOG_LEVEL })
  afterEach(() => { setLogLevel('info') })
  after(() => {
    if (envLevel !== undefined) {
      process.env.VITALS_LOG_LEVEL = envLevel
    }
  })

  it('should drop to warnings in a terminal when no level was asked for', () => {
    setLogLevel('info')
    quietInTerminal({}, defaults, true)
    assert.equal(rootLogger().level, 'warn')
  })

  it('should keep info when the output is not a terminal', () => {
    setLogLevel('info')
    quietInTerminal({}, defaults, false)
    assert.equal(rootLogger().level, 'info')
  })

  it('should keep a level given by flag or by setting', () => {
    setLogLevel('info')
    quietInTerminal({ 'log-level': 'info' }, defaults, true)
    assert.equal(rootLogger().level, 'info')
    const debug = loadSettings({ env: {}, overrides: ['log.level=debug'] })
    setLogLevel('debug')
    quietInTerminal({}, debug, true)
    assert.equal(rootLogger().level, 'debug')
  })
})
