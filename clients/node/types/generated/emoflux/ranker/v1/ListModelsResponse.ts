// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { ModelCard as _emoflux_ranker_v1_ModelCard, ModelCard__Output as _emoflux_ranker_v1_ModelCard__Output } from '../../../emoflux/ranker/v1/ModelCard';

/**
 * Response for RankerService.ListModels.
 */
export interface ListModelsResponse {
  /**
   * The model cards, sorted by id.
   */
  'models'?: (_emoflux_ranker_v1_ModelCard)[];
}

/**
 * Response for RankerService.ListModels.
 */
export interface ListModelsResponse__Output {
  /**
   * The model cards, sorted by id.
   */
  'models': (_emoflux_ranker_v1_ModelCard__Output)[];
}
