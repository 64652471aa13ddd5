// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { LeaderboardEntry as _emoflux_ranker_v1_LeaderboardEntry, LeaderboardEntry__Output as _emoflux_ranker_v1_LeaderboardEntry__Output } from '../../../emoflux/ranker/v1/LeaderboardEntry';

/**
 * Response for RankerService.Leaderboard.
 */
export interface LeaderboardResponse {
  /**
   * Entries by descending score (ties by ascending model id).
   */
  'entries'?: (_emoflux_ranker_v1_LeaderboardEntry)[];
}

/**
 * Response for RankerService.Leaderboard.
 */
export interface LeaderboardResponse__Output {
  /**
   * Entries by descending score (ties by ascending model id).
   */
  'entries': (_emoflux_ranker_v1_LeaderboardEntry__Output)[];
}
