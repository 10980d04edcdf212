// In-process domain events. Other instances hear the same facts through PostgreSQL NOTIFY (src/store listen).
import { EventEmitter } from 'node:events'

export interface EventMap {
  /** A certificate was revoked (by this instance or, relayed from NOTIFY, another one). */
  revoked: { backendId: string; serial: string }
}

export interface EventBus {
  on<K extends keyof EventMap>(event: K, fn: (payload: EventMap[K]) => void): () => void
  emit<K extends keyof EventMap>(event: K, payload: EventMap[K]): void
}

export function createEventBus(): EventBus {
  const emitter = new EventEmitter()
  emitter.setMaxListeners(100)
  return {
    on(event, fn) {
      emitter.on(event, fn)
      return () => emitter.off(event, fn)
    },
    emit(event, payload) {
      emitter.emit(event, payload)
    },
  }
}
