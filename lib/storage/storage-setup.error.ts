/**
 * Thrown by a storage's `init()` when the database answers but cannot be used as it is (an index in
 * the way, a collection with the wrong options): trying again will not help, so startup fails with
 * this error whatever `requireStore` says. Failures to reach the database are other errors.
 */
export class StorageSetupError extends Error {
  override name = 'StorageSetupError';
}
