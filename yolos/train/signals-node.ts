/**
 * SIGINT, SIGTERM and SIGHUP as an AbortSignal, for `train({ signal })`: the first one asks the
 * trainer to stop after the current step and write its checkpoint; later ones are ignored (with a
 * note) until `dispose()`, so the copies that npm, tsx or a process-group kill relay cannot cut the
 * final save short. SIGKILL still stops at once and loses nothing committed (writes are atomic).
 * npx and npm do not forward SIGTERM to the command they run: when the parent process goes away
 * the trainer is orphaned, and that counts as a SIGHUP (checked once a second).
 */

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof SIGNALS)[number];
const NUMBER: Record<StopSignal, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

export interface SignalStop {
  signal: AbortSignal;
  /** The first signal received, or null. */
  received(): StopSignal | null;
  /** The shell's exit code for a run stopped by the signal: 128 + its number (130 SIGINT, 143 SIGTERM, 129 SIGHUP). */
  exitCode(): number;
  /** Removes the handlers: a signal after this has its default effect again. */
  dispose(): void;
}

/**
 * @example const stop = abortOnSignals(); await train({ ..., signal: stop.signal }); stop.dispose();
 */
export function abortOnSignals(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): SignalStop {
  const controller = new AbortController();
  let first: StopSignal | null = null;
  let noted = false;
  const handler = (sig: StopSignal) => {
    if (!first) {
      first = sig;
      log(`\n${sig}: stopping after this step and writing a checkpoint…`);
      controller.abort(new Error(`stopped by ${sig}`));
    } else if (!noted) {
      noted = true;
      log(`${sig}: still writing the checkpoint; it finishes in a moment (SIGKILL stops at once; the last complete checkpoint stays)`);
    }
  };
  for (const s of SIGNALS) process.on(s, handler);
  const parent = process.ppid;
  const orphaned = setInterval(() => {
    if (parent !== 1 && process.ppid !== parent) handler('SIGHUP');
  }, 1000);
  orphaned.unref();
  return {
    signal: controller.signal,
    received: () => first,
    exitCode: () => (first ? 128 + NUMBER[first] : 0),
    dispose: () => {
      clearInterval(orphaned);
      for (const s of SIGNALS) process.off(s, handler);
    },
  };
}
