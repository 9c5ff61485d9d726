/** A linear probe's poolings as data, so the command line can list them without loading the models. */

/** How token states become one vector: their mean, the first token's (`<s>`), or the last token's (GPT-2's summary of the text). */
export type ProbePooling = 'mean' | 'first' | 'last';
export const PROBE_POOLINGS: readonly ProbePooling[] = ['mean', 'first', 'last'];
