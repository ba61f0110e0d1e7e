/**
 * Sets `key` as an own data property. Plain assignment of `__proto__` replaces the
 * prototype instead: the key would vanish from what policy, redaction or storage sees.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
