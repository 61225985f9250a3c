import fc from 'fast-check';

/**
 * Shared fast-check settings of the property tests: a fixed seed (set FUZZ_SEED to explore others),
 * a bounded number of runs, and on failure fast-check's report with the seed, the replay path and
 * the shrunk counterexample.
 */
export const FUZZ_SEED = Number(process.env['FUZZ_SEED'] ?? 20_261_122);

/** Longest failure report: counterexamples can hold strings of 100 KB. */
const MAX_REPORT = 6000;

export function fuzzParams<T>(numRuns: number): fc.Parameters<T> {
  return {
    seed: FUZZ_SEED,
    numRuns,
    verbose: fc.VerbosityLevel.None,
    reporter: (details) => {
      if (!details.failed) return;
      const report = fc.defaultReportMessage(details) ?? `Property failed (seed ${details.seed})`;
      const shown = report.length > MAX_REPORT ? `${report.slice(0, MAX_REPORT)}... [report cut at ${MAX_REPORT} characters]` : report;
      const cause = details.errorInstance instanceof Error ? `\nCause: ${details.errorInstance.message.slice(0, MAX_REPORT)}` : '';
      throw new Error(`${shown}${cause}`);
    },
  };
}

/** `encodeURIComponent`, with lone surrogates (which it refuses) replaced first. */
export function encodeText(text: string): string {
  return encodeURIComponent(
    text.replace(/[\ud800-\udfff]/g, (c, i: number, all: string) => {
      const code = c.charCodeAt(0);
      const pairedAfter = code < 0xdc00 && i + 1 < all.length && all.charCodeAt(i + 1) >= 0xdc00 && all.charCodeAt(i + 1) <= 0xdfff;
      const pairedBefore = code >= 0xdc00 && i > 0 && all.charCodeAt(i - 1) >= 0xd800 && all.charCodeAt(i - 1) < 0xdc00;
      return pairedAfter || pairedBefore ? c : '\ufffd';
    }),
  );
}

/** Text of any kind: ASCII, full unicode (lone surrogates included), control characters. */
export function anyText(maxLength = 64): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({
      unit: fc.constantFrom('\u0000', '\r', '\n', '\t', ' ', '\u00a0', '\u200b', '\ufeff', '\ud800', ',', ';', '"', '\\', '[', ']', ':', '%', '='),
      maxLength,
    }),
  );
}
