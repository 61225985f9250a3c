/**
 * Ends the run with one plain line, `tests: N passed, N failed, N skipped`, that any CI log reader
 * can parse. Written when the process exits, so that it comes after Jest's own summary.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS reporter, loaded by Jest as it is
const { writeSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`;
    // At exit, after Jest's own summary; written synchronously, as the process exits at once after
    // the run (forceExit in jest.config.cjs) and an asynchronous write could be lost.
    process.once('exit', () => writeSync(2, line));
  }
}
module.exports = SummaryReporter;
