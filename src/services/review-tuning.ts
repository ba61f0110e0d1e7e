import type { DecidedActionStore } from '../ports/history-store.js';
import type { GrantService } from './grant-service.js';
import type { HistoryService } from './history-service.js';

/** What the submit path needs for counters, first times and standing grants (issue 17). */
export interface ReviewTuning {
  history: HistoryService;
  grants: Pick<GrantService, 'cover' | 'scopeFor'>;
  /** Writes a decided action after checking its counter reads and using its grant (exact across processes). */
  decided: DecidedActionStore;
}
