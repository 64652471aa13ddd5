// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { ModelCard as _emoflux_ranker_v1_ModelCard, ModelCard__Output as _emoflux_ranker_v1_ModelCard__Output } from '../../../emoflux/ranker/v1/ModelCard';

/**
 * Response for RankerService.GetModel.
 */
export interface GetModelResponse {
  /**
   * The model card.
   */
  'model'?: (_emoflux_ranker_v1_ModelCard | null);
}

/**
 * Response for RankerService.GetModel.
 */
export interface GetModelResponse__Output {
  /**
   * The model card.
   */
  'model': (_emoflux_ranker_v1_ModelCard__Output | null);
}
