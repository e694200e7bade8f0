/** Round half to even on the host (eq. 2), for the few scalars the host computes itself (eq. 7, 8). */
export function roundHalfEvenF32(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
