// JSON logs via pino; one logger per process, passed down by injection.
import { pino, type Logger } from 'pino'
import type { Config } from './config/schema.js'

export const createLogger = (level: Config['logLevel'] = 'info'): Logger =>
  pino({ level, base: { service: 'enroll' }, timestamp: pino.stdTimeFunctions.isoTime })
