/** Locale-independent order (UTF-16 code units), so every machine sorts names alike. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
