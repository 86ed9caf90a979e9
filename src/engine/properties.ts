/**
 * Builders for the two kinds of properties the checks use: targeted properties over generated
 * inputs, and model-based command sequences (fc.commands + fc.asyncModelRun).
 */
import fc from 'fast-check';
import type { CheckContext, CheckProperty } from './check.js';

export function property<T>(ctx: CheckContext, arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>): CheckProperty {
  return { property: fc.asyncProperty(arbitrary, ctx.wrap(predicate)) };
}

export interface ModelSetup<Model extends object, Real> {
  model: Model;
  real: Real;
  /** Releases what the run created (keys, families) — runs even when the sequence fails. */
  dispose?: () => Promise<void>;
}

/**
 * A model-based property: sequences of commands, each checking the target's answer against the
 * model's prediction. `replayPath` from the context makes a shrunk sequence replayable.
 */
export function modelProperty<Model extends object, Real, Extra = undefined>(
  ctx: CheckContext,
  commands: fc.Arbitrary<fc.AsyncCommand<Model, Real>>[],
  setup: (extra: Extra) => Promise<ModelSetup<Model, Real>>,
  options: { maxCommands?: number; extra?: fc.Arbitrary<Extra> } = {},
): CheckProperty {
  const sequences = fc.commands(commands, {
    maxCommands: options.maxCommands ?? 12,
    ...(ctx.replayPath ? { replayPath: ctx.replayPath } : {}),
  });
  // `extra` is drawn with the sequence (e.g. fast-check's scheduler for in-process interleavings).
  const extra = options.extra ?? (fc.constant(undefined) as unknown as fc.Arbitrary<Extra>);
  const predicate = ctx.wrap(async ([drawn, cmds]: [Extra, Iterable<fc.AsyncCommand<Model, Real>>]) => {
    const built = await setup(drawn);
    try {
      await fc.asyncModelRun(() => ({ model: built.model, real: built.real }), cmds);
    } finally {
      await built.dispose?.();
    }
  });
  return { property: fc.asyncProperty(fc.tuple(extra, sequences), predicate), commands: true };
}
