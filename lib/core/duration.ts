/** Milliseconds in `n` seconds. @example { windowMs: seconds(30) } */
export const seconds = (n: number): number => n * 1000;
/** Milliseconds in `n` minutes. */
export const minutes = (n: number): number => n * 60_000;
/** Milliseconds in `n` hours. */
export const hours = (n: number): number => n * 3_600_000;
/** Milliseconds in `n` days. */
export const days = (n: number): number => n * 86_400_000;
/** Milliseconds in `n` weeks. */
export const weeks = (n: number): number => n * 604_800_000;
