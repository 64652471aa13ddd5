// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { ModelCard as _emoflux_ranker_v1_ModelCard, ModelCard__Output as _emoflux_ranker_v1_ModelCard__Output } from '../../../emoflux/ranker/v1/ModelCard';

/**
 * Response for RankerService.AddModel.
 */
export interface AddModelResponse {
  /**
   * The new card.
   */
  'model'?: (_emoflux_ranker_v1_ModelCard | null);
  /**
   * Evidence records imported from the model info (downloads, likes, last modified).
   */
  'evidence_imported'?: (number);
}

/**
 * Response for RankerService.AddModel.
 */
export interface AddModelResponse__Output {
  /**
   * The new card.
   */
  'model': (_emoflux_ranker_v1_ModelCard__Output | null);
  /**
   * Evidence records imported from the model info (downloads, likes, last modified).
   */
  'evidence_imported': (number);
}
