export { createClient, isSettled } from './client.js';
export type { ClientOptions, CountersignClient, WaitOptions } from './client.js';
export { CountersignError, CountersignNotApprovedError, CountersignUnavailableError, isCountersignError } from './errors.js';
export type { CountersignErrorCode } from './errors.js';
export { approval, assertApproved, guard } from './guard.js';
export type { GateOptions, GuardOptions } from './guard.js';
export type * from './types.js';
