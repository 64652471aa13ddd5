// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { Capability as _emoflux_ranker_v1_Capability, Capability__Output as _emoflux_ranker_v1_Capability__Output } from '../../../emoflux/ranker/v1/Capability';
import type { EvidenceSummary as _emoflux_ranker_v1_EvidenceSummary, EvidenceSummary__Output as _emoflux_ranker_v1_EvidenceSummary__Output } from '../../../emoflux/ranker/v1/EvidenceSummary';
import type { WeightsOrigin as _emoflux_ranker_v1_WeightsOrigin, WeightsOrigin__Output as _emoflux_ranker_v1_WeightsOrigin__Output } from '../../../emoflux/ranker/v1/WeightsOrigin';

/**
 * A catalog entry.
 */
export interface ModelCard {
  /**
   * Model id (see the file conventions).
   */
  'id'?: (string);
  /**
   * Display name, e.g. "FLUX.1 [pro]".
   */
  'display_name'?: (string);
  /**
   * Kind of entry, e.g. "Model".
   */
  'type'?: (string);
  /**
   * What the model produces, e.g. "image-classifier", "text-to-image".
   */
  'artifact_type'?: (string);
  /**
   * Organisation that publishes the model.
   */
  'publisher'?: (string);
  /**
   * Pricing in words, e.g. "open weights", "$0.05 per image"; empty when unknown.
   */
  'pricing'?: (string);
  /**
   * License of the weights (SPDX id or name); empty when unknown.
   */
  'license'?: (string);
  /**
   * Decomposed capabilities, sorted by id.
   */
  'capabilities'?: (_emoflux_ranker_v1_Capability)[];
  /**
   * What evidence exists about the model.
   */
  'evidence_summary'?: (_emoflux_ranker_v1_EvidenceSummary | null);
  /**
   * Where the weights of the served copy come from (UNSPECIFIED when not served).
   */
  'weights_origin'?: (_emoflux_ranker_v1_WeightsOrigin);
  /**
   * True when the served copy has random weights (its probe results say nothing
   * about the real model's quality).
   */
  'random_weights'?: (boolean);
  /**
   * Ids of the emoflux variants or models that serve this model (e.g. the image
   * service variant name); empty when it is not served here.
   */
  'served_variants'?: (string)[];
  /**
   * One-paragraph description.
   */
  'description'?: (string);
}

/**
 * A catalog entry.
 */
export interface ModelCard__Output {
  /**
   * Model id (see the file conventions).
   */
  'id': (string);
  /**
   * Display name, e.g. "FLUX.1 [pro]".
   */
  'display_name': (string);
  /**
   * Kind of entry, e.g. "Model".
   */
  'type': (string);
  /**
   * What the model produces, e.g. "image-classifier", "text-to-image".
   */
  'artifact_type': (string);
  /**
   * Organisation that publishes the model.
   */
  'publisher': (string);
  /**
   * Pricing in words, e.g. "open weights", "$0.05 per image"; empty when unknown.
   */
  'pricing': (string);
  /**
   * License of the weights (SPDX id or name); empty when unknown.
   */
  'license': (string);
  /**
   * Decomposed capabilities, sorted by id.
   */
  'capabilities': (_emoflux_ranker_v1_Capability__Output)[];
  /**
   * What evidence exists about the model.
   */
  'evidence_summary': (_emoflux_ranker_v1_EvidenceSummary__Output | null);
  /**
   * Where the weights of the served copy come from (UNSPECIFIED when not served).
   */
  'weights_origin': (_emoflux_ranker_v1_WeightsOrigin__Output);
  /**
   * True when the served copy has random weights (its probe results say nothing
   * about the real model's quality).
   */
  'random_weights': (boolean);
  /**
   * Ids of the emoflux variants or models that serve this model (e.g. the image
   * service variant name); empty when it is not served here.
   */
  'served_variants': (string)[];
  /**
   * One-paragraph description.
   */
  'description': (string);
}
