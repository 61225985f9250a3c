/** The label value given to names past a label's bound. */
export const OTHER_LABEL = 'other';

/**
 * The values one label may take: names as they come, up to `max` distinct ones; any name after
 * that is `other`. Bounds the cardinality of every series a label is part of.
 */
export class LabelSet {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  label(name: string): string {
    if (this.seen.has(name)) return name;
    if (this.seen.size >= this.max) return OTHER_LABEL;
    this.seen.add(name);
    return name;
  }
}
