import type { ActionEvent, Notifier } from '../ports/notifier.js';

export type ActionListener = (event: ActionEvent) => void;

/**
 * Fans committed changes out to in-process listeners (long polls, chat channels,
 * webhooks). A listener that throws is isolated: the gate never fails because a
 * listener did.
 */
export interface ActionEvents extends Notifier {
  subscribe(listener: ActionListener): () => void;
}

export function createActionEvents(onListenerError: (e: unknown) => void = () => {}): ActionEvents {
  const listeners = new Set<ActionListener>();
  return {
    notify(event) {
      for (const l of listeners) {
        try {
          l(event);
        } catch (e) {
          onListenerError(e);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
