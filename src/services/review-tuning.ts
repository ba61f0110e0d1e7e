import type { GrantStore } from '../ports/grant-store.js';
import type { GrantService } from './grant-service.js';
import type { HistoryService } from './history-service.js';

/** What the submit path needs for counters, first times and standing grants (issue 17). */
export interface ReviewTuning {
  history: HistoryService;
  grants: Pick<GrantService, 'cover' | 'scopeFor'>;
  grantStore: Pick<GrantStore, 'insertWithGrant'>;
}
