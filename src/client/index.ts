export { createClient, isSettled } from './client.js';
export type { ClientOptions, CountersignClient, WaitOptions } from './client.js';
export { CountersignError, CountersignUnavailableError } from './errors.js';
export type * from './types.js';
