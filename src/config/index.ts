export { loadSettings, environmentKeys, type LoadOptions } from './load.ts'
export { defaultSettings, vitalsHome } from './defaults.ts'
export { SettingsSchema, type Settings } from './schema.ts'
