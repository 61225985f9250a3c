/** The samples of a Prometheus text exposition: `name{labels}` (as written) → value. */
export function samples(exposition: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out[line.slice(0, space)] = Number(line.slice(space + 1));
  }
  return out;
}

/** The samples of one metric family (its `_bucket`, `_sum` and `_count` series included). */
export function family(exposition: string, name: string): Record<string, number> {
  return Object.fromEntries(
    Object.entries(samples(exposition)).filter(([series]) => series === name || series.startsWith(`${name}{`) || series.startsWith(`${name}_`)),
  );
}
